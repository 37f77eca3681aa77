/**
 * `npm run pin [scenario...]`: re-measure every catalogue variant's DFS and write its exact state
 * and transition counts into the scenario file (`variants.<name>.dfs: { states, transitions }`).
 * The YAML Document API locates the variant's node; the file is edited only there, so comments,
 * folding and flow style elsewhere stay byte for byte. Prints old -> new for each count that moved.
 * The catalogue test only reads these numbers; this script is the one place that writes them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { variantNames } from '../src/scenario/build.js';
import { catalogueFiles } from '../src/scenario/catalogue.js';
import { loadScenarioFile } from '../src/scenario/load.js';
import { pinEdit, runVariant } from '../src/scenario/regress.js';

const only = process.argv.slice(2);
let moved = 0;
for (const file of catalogueFiles()) {
  if (!/\.ya?ml$/.test(file)) continue;
  const sc = loadScenarioFile(file);
  if (only.length && !only.includes(sc.spec.name)) continue;
  let text = readFileSync(file, 'utf8');
  for (const variant of variantNames(sc)) {
    const { dfs } = await runVariant(sc, variant);
    if (!dfs) continue;
    const old = sc.spec.variants[variant]?.dfs;
    if (old && old.states === dfs.states && old.transitions === dfs.transitions) continue;
    moved++;
    process.stdout.write(`${sc.spec.name}/${variant}: states ${old?.states ?? '-'} -> ${dfs.states}, transitions ${old?.transitions ?? '-'} -> ${dfs.transitions}\n`);
    text = pinEdit(text, file, variant, dfs);
  }
  writeFileSync(file, text);
  // The edited file must still load, with exactly the counts just measured.
  const check = loadScenarioFile(file);
  for (const variant of variantNames(check)) if (!check.spec.variants[variant]) throw new Error(`${file}: lost variant ${variant}`);
}
process.stdout.write(`${moved} variant${moved === 1 ? '' : 's'} re-pinned\n`);
