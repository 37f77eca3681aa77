/**
 * Dependencies point one way: locks → machines → engine → kernel (objects and their page-table
 * helpers, written as engine procedures) → actors → explore/trace → scenario → cli. Every import
 * counts: value and type-only (`import type`, `export type ... from`, inline `type` names),
 * side-effect imports (`import './x.js'`), dynamic `import('...')` and `typeof import('...')` in
 * types; a dynamic import whose module is not a string literal cannot be checked and is refused.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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
  scripts: 8,
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.ts$/.test(f) ? [p] : [];
  });
}

const layerOf = (file: string): string | undefined => Object.keys(LAYER).find((l) => relative(root, file).startsWith(`${l}/`));

/** Comments blanked out (so an example in a comment is not an import), strings kept. */
const code = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/[^\n]*/g, '$1');

/** Every module a source file names: static, side-effect, re-export, dynamic; null for a non-literal dynamic import. */
function importsOf(text: string): (string | null)[] {
  const src = code(text);
  const out: (string | null)[] = [];
  for (const m of src.matchAll(/(?:^|[;\n}])\s*(?:import|export)\b(?:\s+type\b)?(?:[^'";]*?\bfrom)?\s*(['"])([^'"]+)\1/g)) out.push(m[2] as string);
  for (const m of src.matchAll(/\bimport\s*\(\s*(?:(['"`])([^'"`$]+)\1\s*[,)]|([^)]))/g)) out.push(m[2] ?? null);
  for (const m of src.matchAll(/\brequire\s*\(\s*(?:(['"])([^'"]+)\1\s*\)|([^)]))/g)) out.push(m[2] ?? null);
  return out;
}

describe('import graph', () => {
  it('finds every kind of import (the checker cannot be fooled by syntax)', () => {
    const sample = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "import {\n  type C,\n  d,\n} from \"./c.js\";",
      "import './side.js';",
      "export { e } from './e.js';",
      "export type { F } from './f.js';",
      "export * from './g.js';",
      "const h = await import('./h.js');",
      "type I = typeof import('./i.js');",
      'const j = await import(name);',
      "// import { k } from './not-an-import.js';",
      "/* import('./nor-this.js') */",
    ].join('\n');
    expect(importsOf(sample)).toEqual(['./a.js', './b.js', './c.js', './side.js', './e.js', './f.js', './g.js', './h.js', './i.js', null]);
  });

  it('no module imports from a higher layer, not even a type, nor dynamically', () => {
    const bad: string[] = [];
    for (const top of ['src', 'actors', 'machines', 'bench', 'scripts']) {
      for (const f of files(join(root, top))) {
        const from = layerOf(f);
        if (!from) continue;
        for (const spec of importsOf(readFileSync(f, 'utf8'))) {
          if (spec === null) {
            bad.push(`${relative(root, f)}: a dynamic import of a computed module`);
            continue;
          }
          if (!spec.startsWith('.')) continue;
          const target = layerOf(resolve(dirname(f), spec));
          if (target && (LAYER[target] as number) > (LAYER[from] as number)) bad.push(`${relative(root, f)} -> ${spec}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});
