/**
 * The lockset reduction (src/engine/lockset.ts, `scheduling.lockset`): on every catalogue variant
 * the verdict codes and completeness are those of the default semantics, and every witness the
 * reduced search reports replays under the default semantics (`mmsim replay`, no racy set) to the
 * same verdict and message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { scheduling } from '../../src/engine/exec.js';
import { replayToken } from '../../src/explore/replayer.js';
import { buildModel, variantNames } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runVariant, scenarioOptions } from '../../src/scenario/regress.js';
import { catalogue } from '../scenario/helpers.js';

const variants = catalogue.flatMap(({ name, path }) => variantNames(loadScenarioFile(path)).map((variant) => ({ file: name, path, variant })));

async function measure(path: string, variant: string, lockset: boolean) {
  scheduling.lockset = lockset;
  try {
    const { result, dfs } = await runVariant(loadScenarioFile(path), variant);
    return { result, verdicts: [...new Set(result.findings.map((f) => f.verdict))].sort(), complete: result.complete, dfs };
  } finally {
    scheduling.lockset = false;
  }
}

const totals = { before: 0, after: 0 };

describe('the lockset reduction keeps every verdict', () => {
  afterEach(() => {
    scheduling.lockset = false;
  });

  it.each(variants)('$file / $variant: same verdicts and completeness, witnesses replay', async ({ path, variant }) => {
    const before = await measure(path, variant, false);
    const after = await measure(path, variant, true);
    expect(after.verdicts).toEqual(before.verdicts);
    expect(after.complete).toBe(before.complete);
    totals.before += before.dfs?.states ?? 0;
    totals.after += after.dfs?.states ?? 0;
    const sc = loadScenarioFile(path);
    const model = buildModel(sc, variant);
    for (const f of after.result.findings.filter((x) => x.by !== 'lockdep')) {
      const again = replayToken(model, f.token, scenarioOptions(sc).maxSteps);
      expect([again.verdict?.code, again.verdict?.message], f.token).toEqual([f.verdict, f.message]);
    }
  });

  it('visits fewer DFS states over the whole catalogue', () => {
    expect(totals.after).toBeGreaterThan(0);
    expect(totals.after).toBeLessThan(totals.before);
  });
});
