/**
 * What each pool thread loads before its first task: the modules the worker reaches through value
 * imports. The `effect` barrel loads every effect module (measured: 260 ms of CPU per thread against
 * 140 ms for Schema and Result alone), so the worker's modules import effect by subpath.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');

/** Value imports of a source file (`import type` and inline-type-only imports are erased). */
function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s)?([^'";]*?)\s*from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm)) {
    if (m[5]) out.push(m[5]);
    else if (!m[2] && !/^\{\s*(type\s+\w+\s*,?\s*)+\}$/.test(m[3] ?? '')) out.push(m[4] as string);
  }
  return out;
}

/** Every source file the worker reaches, and the packages each imports. */
function reach(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const todo = [entry];
  for (let f = todo.pop(); f; f = todo.pop()) {
    if (seen.has(f)) continue;
    const pkgs: string[] = [];
    seen.set(f, pkgs);
    for (const s of valueImports(f)) {
      if (!s.startsWith('.')) pkgs.push(s);
      else {
        const ts = resolve(dirname(f), s).replace(/\.js$/, '.ts');
        if (existsSync(ts)) todo.push(ts);
      }
    }
  }
  return seen;
}

describe('the worker module graph', () => {
  it('reaches effect only by subpath (effect/Schema, effect/Result), never the barrel', () => {
    const graph = reach(join(root, 'src/cli/worker.ts'));
    expect(graph.size).toBeGreaterThan(50);
    const barrel = [...graph].filter(([, pkgs]) => pkgs.includes('effect')).map(([f]) => relative(root, f));
    expect(barrel).toEqual([]);
    expect([...graph.values()].flat()).toContain('effect/Schema');
  });
});
