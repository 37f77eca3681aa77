/** The `mmsim` command line as a user meets it (compiled: `npm test` builds first). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLAGS } from '../../src/cli/args.js';
import { COMMANDS } from '../../src/cli/program.js';

const root = join(import.meta.dirname, '..', '..');
const main = join(root, 'dist/src/cli/main.js');
const mmsim = (...args: string[]) => {
  const r = spawnSync(process.execPath, [main, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const tmp = mkdtempSync(join(tmpdir(), 'mmsim-cli-'));
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .+:\d+:\d+/);

describe('mmsim help, version and arguments', () => {
  it('each command has its own help: every flag, its default, an example', () => {
    for (const c of COMMANDS) {
      const r = mmsim(c.name, '--help');
      expect(r.code, c.name).toBe(0);
      const help = r.out.replace(/\s+/g, ' ');
      expect(help).toContain(`Usage: mmsim ${c.name}`);
      for (const f of c.flags) {
        expect(help, `${c.name} --${f}`).toContain(f === 'por' ? '--no-por' : `--${f}`);
        expect(help, `${c.name} --${f} default`).toContain(`(default: ${FLAGS[f].def.replace(/\s+/g, ' ')})`);
      }
      expect(help).toMatch(/Examples: mmsim /);
    }
    expect(mmsim('--help').out).toMatch(/Exit codes: 0 as expected/);
  });

  it('--version prints the package version', () => {
    const r = mmsim('--version');
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });

  it('stray arguments and unknown flags are usage errors (exit 2, nothing on stdout)', () => {
    for (const args of [['explore', 'abba', 'extra'], ['list', 'x'], ['check'], ['lockdep', 'abba', '--bogus'], ['replay', 'abba']]) {
      const r = mmsim(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(/^mmsim: /);
      noStack(r.err);
    }
  });

  it('a reader that goes away (a closed pipe) ends the output quietly', () => {
    for (const cmd of ['list', 'schema', 'explore abba']) {
      const r = spawnSync('bash', ['-c', `node ${main} ${cmd} | (exec 0<&-; sleep 0.3); echo "rc=\${PIPESTATUS[0]}" >&2`], { cwd: root, encoding: 'utf8' });
      expect(r.stderr.trim(), cmd).toBe('rc=0');
    }
    const r = spawnSync('bash', ['-c', `node ${main} list | head -1`], { cwd: root, encoding: 'utf8' });
    expect(r.stdout).toMatch(/^\S+ {2}\(scenarios\/\S+\)\n$/);
    expect(r.stderr).toBe('');
  });
});

describe('mmsim explore output', () => {
  it('--budget 2s runs for two seconds: the scenario run count does not cap it', () => {
    const r = mmsim('explore', 'philosophers-3', '--variant', 'default', '--strategy', 'random', '--budget', '2s', '--json');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out);
    expect(o.runs).toBeGreaterThan(2000); // the scenario's explore.runs
    expect(o.elapsedMs).toBeGreaterThanOrEqual(1900);
    expect(o.elapsedMs).toBeLessThan(4000);
  });

  it('every NO says why on its own line; columns are as wide as their content', () => {
    const r = mmsim('explore', 'philosophers-3', '--variant', 'ordered', '--strategy', 'pct');
    expect(r.code).toBe(1);
    const [head, row] = r.out.split('\n') as [string, string];
    expect(row).toMatch(/ NO .*not proven: the variant must be proven by a complete DFS, and --strategy pct cannot prove$/);
    expect(head).toMatch(/^scenario {8}variant {2}expected/); // "philosophers-3" is 14 wide
    expect(head.indexOf('why')).toBe(row.indexOf('not proven'));
  });

  it('--json-array prints one array; --json prints JSON Lines, one record per variant', () => {
    const lines = mmsim('explore', 'philosophers-3', '--json').out.trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).variant)).toEqual(['default', 'ordered']);
    const arr = JSON.parse(mmsim('explore', 'philosophers-3', '--json-array').out);
    expect(arr.map((x: { variant: string }) => x.variant)).toEqual(['default', 'ordered']);
  });

  it('--junit and --sarif write reports that name each variant and finding', () => {
    const f = join(tmp, 'wrong.yaml');
    writeFileSync(f, readFileSync(join(root, 'scenarios/abba.yaml'), 'utf8').replace('expect: [deadlock, potential-deadlock]', 'expect: [deadlock]'));
    const r = mmsim('explore', f, '--junit', join(tmp, 'j.xml'), '--sarif', join(tmp, 's.sarif'));
    expect(r.code).toBe(1);
    const x = readFileSync(join(tmp, 'j.xml'), 'utf8');
    expect(x).toMatch(/<testsuites name="mmsim" tests="1" failures="1"/);
    expect(x).toMatch(/<testcase classname="abba" name="default"[^>]*>\s*<failure type="unexpected-verdict" message="potential-deadlock not expected">/);
    const s = JSON.parse(readFileSync(join(tmp, 's.sarif'), 'utf8'));
    expect(s.version).toBe('2.1.0');
    const res = s.runs[0].results;
    expect(res.find((x: { ruleId: string }) => x.ruleId === 'potential-deadlock')).toMatchObject({ level: 'error' });
    expect(res.find((x: { ruleId: string }) => x.ruleId === 'deadlock')).toMatchObject({ level: 'note' });
    const loc = res[0].locations[0].physicalLocation;
    expect(loc.artifactLocation.uri).toMatch(/wrong\.yaml$/);
    expect(readFileSync(f, 'utf8').split('\n')[loc.region.startLine - 1]).toMatch(/^\s+default:/);
  });

  it('--coverage lists each procedure with its labels reached and not reached', () => {
    const r = mmsim('explore', 'mm-shmem-fault-vs-punch', '--variant', 'truncate-under-i-mmap', '--coverage');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^coverage of mm-shmem-fault-vs-punch\/truncate-under-i-mmap/m);
    expect(r.out).toMatch(/^ {2}shmem_fault \(mm\/shmem\.c: shmem_fault\): 4\/4$/m);
    expect(r.out).toMatch(/^ {2}truncate_range \(.*\): \d+\/11; not reached: .*\bremove\b/m);
  });
});

describe('mmsim replay exporters', () => {
  it('Mermaid written to a .md file is fenced; to another file it is the bare diagram', () => {
    expect(mmsim('replay', 'abba', 'v1.010', '--mermaid', join(tmp, 'm.md')).code).toBe(0);
    expect(readFileSync(join(tmp, 'm.md'), 'utf8')).toMatch(/^```mermaid\nsequenceDiagram\n[\s\S]*\n```\n$/);
    expect(mmsim('replay', 'abba', 'v1.010', '--mermaid', join(tmp, 'x.mmd')).code).toBe(0);
    expect(readFileSync(join(tmp, 'x.mmd'), 'utf8')).toMatch(/^sequenceDiagram\n/);
  });
});

describe('mmsim lockdep', () => {
  it('philosophers-3: per variant, exit 0; a cycle the scenario does not expect exits 1', () => {
    const r = mmsim('lockdep', 'philosophers-3');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/lock-order graph of philosophers-3\/ordered: 3 dependencies[\s\S]*no cycles/);
    const f = join(tmp, 'phil.yaml');
    writeFileSync(f, readFileSync(join(root, 'scenarios/abba.yaml'), 'utf8').replace('expect: [deadlock, potential-deadlock]', 'expect: [deadlock]'));
    const bad = mmsim('lockdep', f);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/NOT as expected: found potential-deadlock, the scenario expects none/);
  });

  it('an unlock of a lock not held: the bad-unlock-balance splat names the actor', () => {
    const f = join(tmp, 'misuse.yaml');
    writeFileSync(f, 'name: misuse\ndescription: d\nlocks: { A: { kind: mutex } }\nactors:\n  - name: worker\n    ops:\n      - { op: unlock, lock: A }\nvariants:\n  default: { expect: [lock-misuse] }\n');
    const r = mmsim('lockdep', f);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/={30,}\nWARNING: bad unlock balance detected!\n-{30,}\nworker is trying to release lock \(A\) at:\n {2}worker:op0\nbut there are no more locks to release!/);
    expect(r.out).toMatch(/no locks held by worker\./);
  });
});

describe('mmsim --watch', () => {
  it('check --watch re-checks the file on every change, survives a bad edit, and stops on Ctrl-C', async () => {
    const { spawn } = await import('node:child_process');
    const f = join(tmp, 'watched.yaml');
    const good = readFileSync(join(root, 'scenarios/abba.yaml'), 'utf8');
    writeFileSync(f, good);
    const child = spawn(process.execPath, [main, 'check', f, '--watch'], { cwd: root });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const until = async (what: () => boolean, label: string) => {
      for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(what(), `${label}\nstdout: ${out}\nstderr: ${err}`).toBe(true);
    };
    try {
      await until(() => /valid \(1 variants\)/.test(out), 'first check');
      writeFileSync(f, good.replace('kind: mutex', 'kind: mutexx'));
      await until(() => /changed; running again[\s\S]*locks\.A\.kind/.test(err), 'the bad edit is reported');
      writeFileSync(f, good);
      await until(() => (out.match(/valid \(1 variants\)/g) ?? []).length === 2, 'checked again after the fix');
    } finally {
      child.kill('SIGINT');
    }
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    noStack(err);
  }, 30_000);
});
