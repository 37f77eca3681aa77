/** The worker's model cache: one load per file version, one build per variant, an edited file is seen; a carried scenario is not read again. */
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeRunner } from '../../src/cli/session.js';
import { loadedOf, modelFor } from '../../src/cli/worker.js';
import { DEFAULTS, explore } from '../../src/explore/explore.js';
import { loadScenarioFile } from '../../src/scenario/load.js';

const scenario = (threads: number) =>
  `name: cache-probe\ndescription: probe\nlocks:\n  a: { kind: mutex }\nactors:\n${Array.from({ length: threads }, (_, i) => `  - name: t${i}\n    ops:\n      - { op: lock, lock: a }\n      - { op: unlock, lock: a }\n`).join('')}variants:\n  default: { expect: [] }\n  other: { expect: [] }\n`;

describe('modelFor', () => {
  it('builds a variant once and rebuilds after the file is edited', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mmsim-cache-')), 'probe.yaml');
    writeFileSync(file, scenario(2));
    utimesSync(file, 1000, 1000);
    const first = modelFor(file, 'default');
    expect(modelFor(file, 'default')).toBe(first);
    expect(modelFor(file, 'other')).not.toBe(first);
    expect(first.threads.length).toBe(2);
    writeFileSync(file, scenario(3));
    utimesSync(file, 2000, 2000);
    const edited = modelFor(file, 'default');
    expect(edited).not.toBe(first);
    expect(edited.threads.length).toBe(3);
  });
});

describe('tasks that carry their scenario', () => {
  it('build the model from the scenario as loaded, without reading the file again, on one worker or two', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mmsim-carry-')), 'probe.yaml');
    writeFileSync(file, scenario(2));
    const sc = loadScenarioFile(file);
    const o = { ...DEFAULTS, strategy: 'dfs' as const };
    const target = { file, variant: 'default', model: modelFor(file, 'default', {}, loadedOf(sc)), expected: [], mustComplete: true };
    const inline = makeRunner(1);
    const read = await explore(target, o, inline.run); // the file is read by the worker's cache
    expect([read.complete, read.distinctStates, read.findings]).toEqual([true, 21, []]);
    writeFileSync(file, 'not: [a scenario'); // from now on a worker that read the file would fail
    for (const workers of [1, 2]) {
      const runner = makeRunner(workers, { pool: workers > 1, scenarios: [sc] });
      try {
        const r = await explore(target, { ...o, workers }, runner.run);
        expect(r.internal).toBeUndefined();
        expect([r.complete, r.distinctStates, r.runs, r.findings]).toEqual([true, 21, read.runs, []]);
      } finally {
        await runner.close();
      }
    }
  });
});
