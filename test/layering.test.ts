/**
 * Dependencies point one way: locks → machines → engine → kernel (objects and their page-table
 * helpers, written as engine procedures) → actors → explore/trace → scenario → cli.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const LAYER: Record<string, number> = {
  'src/locks': 1,
  machines: 2,
  'src/engine': 3,
  'src/kernel': 3.5,
  actors: 4,
  'src/check': 4,
  'src/explore': 5,
  'src/trace': 5,
  'src/scenario': 6,
  'src/cli': 7,
  bench: 8,
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.ts$/.test(f) ? [p] : [];
  });
}

const layerOf = (file: string): string | undefined => Object.keys(LAYER).find((l) => relative(root, file).startsWith(`${l}/`));

describe('import graph', () => {
  it('no module imports from a higher layer (the engine may name actor types only)', () => {
    const bad: string[] = [];
    for (const top of ['src', 'actors', 'machines', 'bench']) {
      for (const f of files(join(root, top))) {
        const from = layerOf(f);
        if (!from) continue;
        for (const m of readFileSync(f, 'utf8').matchAll(/^(import|export)\s+(type\s+)?[^'"]*from\s+'(\.[^']+)'/gm)) {
          const target = layerOf(resolve(dirname(f), m[3] as string));
          if (!target) continue;
          const typeOnly = Boolean(m[2]);
          if ((LAYER[target] as number) > (LAYER[from] as number) && !typeOnly) bad.push(`${relative(root, f)} -> ${m[3]}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});
