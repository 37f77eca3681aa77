/**
 * Typed procedures: the project's own compiler (typescript 7, `tsc`) rejects a misspelt label, a
 * positional argument array, a missing argument and a VMA id passed as an mm id, and accepts the
 * same procedures written correctly. Each snippet is a file in a temporary folder importing the
 * sources by absolute path.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const tsc = join(root, 'node_modules', '.bin', 'tsc');

/** Compile one snippet; returns tsc's exit code and its diagnostics, one per line. */
function compile(name: string, body: string): { code: number | null; errors: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-tsc-'));
  const file = join(dir, `${name}.ts`);
  const src = (p: string) => JSON.stringify(join(root, p));
  writeFileSync(
    file,
    [
      `import { BLOCKED } from ${src('src/engine/proc.js')};`,
      `import type { MmId, VmaId } from ${src('src/kernel/ids.js')};`,
      `import { kproc } from ${src('src/kernel/kproc.js')};`,
      'const callee = kproc("callee", "test", (a: { mm: MmId; vma: VmaId }) => ({ mm: a.mm, vma: a.vma }), {',
      '  start: (k, l) => k.ret(l.mm),',
      '});',
      body,
    ].join('\n'),
  );
  const config = {
    compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: true, types: [] },
    files: [file],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config));
  const r = spawnSync(tsc, ['-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
  const errors = r.stdout.split('\n').filter((l) => l.includes(`${name}.ts(`));
  return { code: r.status, errors };
}

/** The line of the snippet (1-based, after the 6-line prelude) each diagnostic points at. */
const lines = (errors: string[]) => errors.map((e) => Number(/\.ts\((\d+),/.exec(e)?.[1]) - 6);

describe('typed procedures (tsc)', () => {
  it('accepts a procedure whose labels, argument record and ids are right', () => {
    const r = compile(
      'good',
      [
        'export const caller = kproc("caller", "test", (a: { mm: MmId; vma: VmaId }) => ({ mm: a.mm, vma: a.vma, rv: 0 }), {',
        '  lock: (k, l) => (k.spin_lock(l.mm) ? "call" : BLOCKED),',
        '  call: (k, l) => k.call(callee, { mm: l.mm, vma: l.vma }, "done"),',
        '  done: (k, l) => {',
        '    l.rv = k.rv;',
        '    return k.ret(l.rv);',
        '  },',
        '});',
      ].join('\n'),
    );
    expect(r.errors).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('rejects a misspelt label (returned by a step or given to k.call), positional and missing arguments, and a wrong id kind', () => {
    const r = compile(
      'bad',
      [
        'export const caller = kproc("caller", "test", (a: { mm: MmId; vma: VmaId }) => ({ mm: a.mm, vma: a.vma }), {',
        '  lock: (k, l) => (k.spin_lock(l.mm) ? "cal" : BLOCKED),',
        '  call: (k, l) => k.call(callee, { mm: l.mm, vma: l.vma }, "dnoe"),',
        '  positional: (k, l) => k.call(callee, [l.mm, l.vma], "done"),',
        '  missing: (k, l) => k.call(callee, { mm: l.mm }, "done"),',
        '  swapped: (k, l) => k.call(callee, { mm: l.vma, vma: l.vma }, "done"),',
        '  done: (k, l) => k.ret(l.mm),',
        '});',
      ].join('\n'),
    );
    expect(r.code).not.toBe(0);
    expect(lines(r.errors)).toEqual([2, 3, 4, 5, 6]);
    expect(r.errors[0]).toMatch(/TS2322: Type '"cal"( \| -1)?' is not assignable to type 'Next<"call" \| "done" \| "lock" \| "missing" \| "positional" \| "swapped">'/);
    expect(r.errors[1]).toMatch(/TS2345: Argument of type '"dnoe"' is not assignable to parameter of type '"call" \| "done" \| "lock" \|/);
    expect(r.errors[2]).toMatch(/Type '\(MmId \| VmaId\)\[\]' is missing the following properties from type '\{ mm: MmId; vma: VmaId; \}'/);
    expect(r.errors[3]).toMatch(/Property 'vma' is missing/);
    expect(r.errors[4]).toMatch(/Type 'VmaId' is not assignable to type 'MmId'/);
  });
});
