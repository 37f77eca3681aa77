/** The `mmsim` command as a user runs it (compiled: `npm test` builds first). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const mmsim = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const tmp = mkdtempSync(join(tmpdir(), 'mmsim-'));
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .+:\d+:\d+/);

describe('mmsim CLI', () => {
  it('explore --json prints one object per variant with the documented fields, exit 0', () => {
    const r = mmsim('explore', 'abba', '--json', '--strategy', 'dfs');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.out.trim());
    for (const k of ['scenario', 'variant', 'strategy', 'seed', 'runs', 'steps', 'distinctStates', 'complete', 'startupMs', 'elapsedMs', 'timeToFirstBugMs', 'findings', 'expected', 'matchesExpectation'])
      expect(o).toHaveProperty(k);
    // Start-up (pool, model build) is apart from the search; the first bug is found within the search.
    expect(o.startupMs).toBeGreaterThan(0);
    expect(o.timeToFirstBugMs).toBeLessThanOrEqual(o.elapsedMs);
    expect(o.findings.map((f: { verdict: string }) => f.verdict).sort()).toEqual(['deadlock', 'potential-deadlock']);
    expect(o.matchesExpectation).toBe(true);
    const token = o.findings.find((f: { verdict: string }) => f.verdict === 'deadlock').token;
    const rep = mmsim('replay', 'abba', token, '--trace', join(tmp, 't1.json'));
    expect(rep.code).toBe(0);
    expect(rep.out).toMatch(/verdict: deadlock/);
    mmsim('replay', 'abba', token, '--trace', join(tmp, 't2.json'));
    expect(readFileSync(join(tmp, 't1.json'), 'utf8')).toBe(readFileSync(join(tmp, 't2.json'), 'utf8'));
    const files = ['--html', 'v.html', '--perfetto', 'v.perfetto.json', '--mermaid', 'v.md'].map((a, i) => (i % 2 ? join(tmp, a) : a));
    expect(mmsim('replay', 'abba', token, ...files).code).toBe(0);
    expect(readFileSync(join(tmp, 'v.html'), 'utf8')).toContain(token);
    expect(JSON.parse(readFileSync(join(tmp, 'v.perfetto.json'), 'utf8')).traceEvents.length).toBeGreaterThan(10);
    expect(readFileSync(join(tmp, 'v.md'), 'utf8')).toMatch(/sequenceDiagram/);
  });

  it('exits 1 when a verdict differs from the expectation', () => {
    const f = join(tmp, 'wrong.yaml');
    writeFileSync(f, readFileSync(join(root, 'scenarios/abba.yaml'), 'utf8').replace('expect: [deadlock, potential-deadlock]', 'expect: []'));
    const r = mmsim('explore', f, '--strategy', 'dfs');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/abba\s+default\s+ok\s+deadlock,potential-deadlock\s+NO/);
  });

  it('bad scenario files exit 2 naming the file and the path, without a stack trace', () => {
    const f = join(tmp, 'bad.yaml');
    writeFileSync(f, 'name: x\ndescription: y\nlocks: { A: { kind: mutex } }\nactors:\n  - name: T\n    ops:\n      - { op: lock, lock: B }\nvariants: { default: { expect: [deadlok] } }\n');
    const r = mmsim('check', f);
    expect(r.code).toBe(2);
    expect(r.err).toContain('bad.yaml');
    expect(r.err).toMatch(/variants\.default\.expect\[0\]/);
    noStack(r.err);
  });

  it('bad flags, tokens and names exit 2 with a message', () => {
    for (const args of [['explore', 'abba', '--budget', '0'], ['explore', 'abba', '--strategy', 'bfs'], ['explore', 'philosophers-3', '--param', 'n=99'], ['explore', 'abba', '--param', 'n=4'], ['explore', 'abba', '--workers', 'two'], ['explore', 'nosuch'], ['replay', 'abba', 'xyz'], ['frobnicate'], ['explore', 'abba', '--bogus']]) {
      const r = mmsim(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/mmsim: /);
      expect(r.out, args.join(' ')).toBe('');
      noStack(r.err);
    }
  });

  it('--param n sizes a generated scenario (philosophers-4 from the philosophers-3 file)', () => {
    const r = mmsim('explore', 'philosophers-3', '--param', 'n=4', '--variant', 'ordered', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ distinctStates: 1974, complete: true, matchesExpectation: true });
  });

  it('list --json describes the catalogue', () => {
    const r = mmsim('list', '--json');
    expect(r.code).toBe(0);
    const items = JSON.parse(r.out);
    const abba = items.find((s: { name: string }) => s.name === 'abba');
    expect(abba.variants[0]).toMatchObject({ name: 'default', expect: ['deadlock', 'potential-deadlock'] });
    expect(abba.file).toBe('scenarios/abba.yaml');
  });
});
