/** Limits as a user meets them through the compiled `mmsim` (npm test builds first): signals, time limits, hostile input. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const main = join(root, 'dist/src/cli/main.js');
const tmp = mkdtempSync(join(tmpdir(), 'mmsim-limits-'));
const mmsim = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [main, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/** Start `mmsim`, send `sig` once the first result line is out, and collect everything. */
function interrupted(args: string[], sig: NodeJS.Signals, firstLine: RegExp): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done, fail) => {
    const p = spawn(process.execPath, [main, ...args], { cwd: root });
    let out = '';
    let err = '';
    let sent = false;
    const guard = setTimeout(() => {
      p.kill('SIGKILL');
      fail(new Error(`no exit: ${out}`));
    }, 100_000);
    p.stdout.on('data', (d: Buffer) => {
      out += d;
      if (!sent && firstLine.test(out)) {
        sent = true;
        p.kill(sig);
      }
    });
    p.stderr.on('data', (d: Buffer) => {
      err += d;
    });
    p.on('close', (code) => {
      clearTimeout(guard);
      done({ code, out, err });
    });
  });
}

const slowAll = ['explore', '--all', '--strategy', 'random', '--budget', '200000'];

describe('signals', () => {
  it('SIGINT on 1 worker: the finished rows and their findings are printed, the run is marked partial, exit 130', async () => {
    const r = await interrupted(slowAll, 'SIGINT', /^abba .*\n/m);
    expect(r.code).toBe(130);
    expect(r.out).toMatch(/^abba\s+default\s+deadlock,potential-deadlock\s+deadlock/m);
    expect(r.out).toMatch(/abba\/default: deadlock \(found by random\)\n[\s\S]*replay: mmsim replay scenarios\/abba\.yaml v1\.\S+ --variant default/);
    const m = /partial: stopped by SIGINT after (\d+) of (\d+) variants/.exec(r.out);
    expect(Number(m?.[1])).toBeLessThan(Number(m?.[2]));
  });

  it('SIGINT on 2 workers with --json: every finished row, then a partial marker, exit 130', async () => {
    const r = await interrupted([...slowAll, '--workers', '2', '--json'], 'SIGINT', /"scenario":"abba"/);
    expect(r.code).toBe(130);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    const last = lines.pop();
    expect(last).toMatchObject({ partial: true, stoppedBy: 'signal', signal: 'SIGINT' });
    expect(last.variants).toBeLessThan(last.of);
    expect(lines.length).toBe(last.variants);
    expect(lines[0].scenario).toBe('abba');
    expect(lines[0].findings.map((f: { verdict: string }) => f.verdict).sort()).toEqual(['deadlock', 'potential-deadlock']);
  });

  it('SIGTERM exits 143 with the partial marker', async () => {
    const r = await interrupted([...slowAll, '--json'], 'SIGTERM', /"scenario":"abba"/);
    expect(r.code).toBe(143);
    expect(JSON.parse(r.out.trim().split('\n').pop() as string)).toMatchObject({ partial: true, signal: 'SIGTERM' });
  });
});

describe('a model step that does not return', () => {
  it('is stopped by the task time limit and reported as internal for its variant; the other variants report', () => {
    const r = mmsim(['explore', join(root, 'test/fixtures/spin.yaml'), '--task-limit', '2s'], { MMSIM_TEST_OPS: '1' });
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/^spin\s+fine\s+ok\s+ok\s+yes/m);
    expect(r.out).toMatch(/^spin\s+stuck\s+ok\s+internal\s+NO/m);
    expect(r.out).toMatch(/^spin\s+after\s+ok\s+ok\s+yes/m);
    expect(r.out).toMatch(/2 of 3 variants as expected; 1 failed with an internal error/);
    expect(r.err).toMatch(/spin\/stuck: internal error: .*time limit of 2000 ms/);
  });

  it('the spin operation does not exist without MMSIM_TEST_OPS=1 (not reachable from the catalogue)', () => {
    const r = mmsim(['check', join(root, 'test/fixtures/spin.yaml')], { MMSIM_TEST_OPS: '' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/test_spin/);
  });
});

describe('hostile input', () => {
  it('the token bomb exits 2 with a message', () => {
    const r = mmsim(['replay', 'abba', `v1.${'0.5yc1s.'.repeat(20)}`]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/the token holds more than \d+ choices/);
  });

  it('FIFOs, devices and directories are refused before reading; the file size limit is a flag', () => {
    const fifo = join(tmp, 'fifo.yaml');
    if (spawnSync('mkfifo', [fifo]).status === 0) {
      const r = mmsim(['check', fifo]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/not a regular file \(a FIFO\)/);
    }
    const zero = join(tmp, 'zero.yaml');
    symlinkSync('/dev/zero', zero);
    expect(mmsim(['check', zero]).err).toMatch(/not a regular file \(a device\)/);
    const big = join(tmp, 'big.yaml');
    writeFileSync(big, `${readFileSync(join(root, 'scenarios/abba.yaml'), 'utf8')}\n# ${'x'.repeat(2000)}\n`);
    const small = mmsim(['check', big, '--max-file-size', '1k']);
    expect(small.code).toBe(2);
    expect(small.err).toMatch(/more than the limit of 1024 \(raise it with --max-file-size\)/);
    expect(mmsim(['check', big, '--max-file-size', '64k']).code).toBe(0);
  });

  it('a long string or key is not echoed whole in the error', () => {
    const f = join(tmp, 'long.json');
    writeFileSync(f, JSON.stringify({ name: 'abba', description: 'x', variants: { default: { expect: [] } }, actors: [], ['k'.repeat(100_000)]: 1 }));
    const r = mmsim(['check', f]);
    expect(r.code).toBe(2);
    expect(r.err.length).toBeLessThan(2000);
    expect(r.err).toMatch(/… \(100000 characters\): unknown key/);
  });

  it('a map key given twice and a page populated twice are errors', () => {
    const f = join(tmp, 'dups.yaml');
    writeFileSync(f, readFileSync(join(root, 'scenarios/abba.yaml'), 'utf8').replace(/^name: abba$/m, 'name: abba\nname: again'));
    expect(mmsim(['check', f]).err).toMatch(/the key "name" appears twice in the same map/);
    const g = join(tmp, 'pop.yaml');
    writeFileSync(
      g,
      `name: pop\ndescription: x\nworld:\n  memfds: { guest: { kind: shmem, pages: 4, populated: [0, 2, 0] } }\n  mms: { vm: { vmas: { ram: { memfd: guest, shared: true, pages: 4 } } } }\nactors:\n  - { name: cpu0, mm: vm, ops: [ { op: write, vma: ram, page: 0 } ] }\nvariants: { default: { expect: [] } }\n`,
    );
    const r = mmsim(['check', g]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/world\.memfds\.guest\.populated: page 0 appears twice/);
  });

  it('names with "/" or control characters are refused by the schema', () => {
    const f = join(tmp, 'slash.yaml');
    writeFileSync(f, readFileSync(join(root, 'scenarios/abba.yaml'), 'utf8').replace(/^name: abba$/m, 'name: "a/b; touch pwned"'));
    const r = mmsim(['check', f]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/name: expected a string of 1 to 64 characters \(without "\/" or control characters\), found "a\/b; touch pwned"/);
  });

  it('the printed replay command quotes names so that it round-trips through sh -c', () => {
    const f = join(tmp, "it's a; touch pwned.yaml");
    const text = readFileSync(join(root, 'scenarios/abba.yaml'), 'utf8');
    writeFileSync(f, text.replace(/^name: abba$/m, "name: \"x'; touch pwned\"").replace(/^ {2}default:/m, '  "v $(touch pwned) \'q\'":'));
    const r = mmsim(['explore', f, '--strategy', 'dfs']);
    expect(r.code).toBe(0);
    const line = /replay: (mmsim replay .*)$/m.exec(r.out)?.[1] as string;
    expect(line).toBeTruthy();
    const args = spawnSync('sh', ['-c', `set -- ${line.slice('mmsim '.length)}; printf '%s\\0' "$@"`], { cwd: tmp, encoding: 'utf8' });
    expect(args.status).toBe(0);
    const words = args.stdout.split('\0').slice(0, -1);
    expect(words[0]).toBe('replay');
    expect(join(root, words[1] as string)).toBe(f);
    expect(words[2]).toMatch(/^v1\./);
    expect(words.slice(3)).toEqual(['--variant', "v $(touch pwned) 'q'"]);
    const again = mmsim(['replay', f, words[2] as string, '--variant', words[4] as string]);
    expect(again.out).toMatch(/verdict: deadlock/);
  });
});

describe('caps on the command line', () => {
  it('--budget in runs caps a DFS whatever maxStates the file says, and the cap is named', () => {
    const f = join(tmp, 'huge.yaml');
    writeFileSync(f, 'name: huge\ndescription: x\ngenerate: { kind: philosophers, n: 8 }\nvariants: { ordered: { switches: { ordered: true }, expect: [] } }\nexplore: { strategy: dfs, maxStates: 100000000 }\n');
    const r = mmsim(['explore', f, '--budget', '50', '--json']);
    const o = JSON.parse(r.out.trim());
    expect(o.stoppedBy).toBe('budget');
    expect(o.complete).toBe(false);
    const s = mmsim(['explore', 'philosophers-3', '--param', 'n=8', '--variant', 'ordered', '--strategy', 'dfs', '--max-states', '5000']);
    expect(s.out).toMatch(/no \(max-states\)/);
  });
});
