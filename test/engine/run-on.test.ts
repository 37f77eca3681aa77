/**
 * Invisible steps run on and invariants are re-checked only after kernel writes
 * (src/engine/visibility.ts): on every catalogue variant, the verdict codes and completeness are
 * those of the reference semantics (every label a scheduling point, every invariant after every
 * step), and the DFS's distinct states and transitions may only go down.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { scheduling } from '../../src/engine/exec.js';
import { variantNames } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runVariant } from '../../src/scenario/regress.js';
import { catalogue } from '../scenario/helpers.js';

const variants = catalogue.flatMap(({ name, path }) => variantNames(loadScenarioFile(path)).map((variant) => ({ file: name, path, variant })));

async function measure(path: string, variant: string, runOn: boolean) {
  scheduling.runOn = runOn;
  scheduling.lazyInvariants = runOn;
  const { result, dfs } = await runVariant(loadScenarioFile(path), variant);
  return { verdicts: [...new Set(result.findings.map((f) => f.verdict))].sort(), complete: result.complete, dfs };
}

describe('invisible steps are not scheduling points', () => {
  afterEach(() => {
    scheduling.runOn = true;
    scheduling.lazyInvariants = true;
  });

  it.each(variants)('$file / $variant: same verdicts and completeness, no more states', async ({ path, variant }) => {
    const before = await measure(path, variant, false);
    const after = await measure(path, variant, true);
    expect(after.verdicts).toEqual(before.verdicts);
    expect(after.complete).toBe(before.complete);
    if (before.dfs && after.dfs) {
      expect(after.dfs.states).toBeLessThanOrEqual(before.dfs.states);
      expect(after.dfs.transitions).toBeLessThanOrEqual(before.dfs.transitions);
    }
  });

  it('removes scheduling points somewhere in the catalogue', async () => {
    const before = await measure(variants[1]?.path as string, 'default', false);
    const after = await measure(variants[1]?.path as string, 'default', true);
    expect(after.dfs?.states).toBeLessThan(before.dfs?.states as number);
  });
});
