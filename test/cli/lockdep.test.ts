/**
 * `mmsim lockdep` agrees with `mmsim explore` on every catalogue variant: a lock-order cycle or a
 * hierarchy break exactly where explore finds `potential-deadlock`, a splat for each sleep-in-atomic
 * and lock-misuse finding, and the splats in lockdep's own format.
 */
import { describe, expect, it } from 'vitest';
import { exploreOptions } from '../../src/cli/args.js';
import { LOCKDEP_KINDS, lockdepText, lockdepVariant } from '../../src/cli/lockdep.js';
import { modelFor } from '../../src/cli/worker.js';
import { explore } from '../../src/explore/explore.js';
import { inlineRunner } from '../../src/explore/pool.js';
import { runTask } from '../../src/explore/task.js';
import { catalogueFiles } from '../../src/scenario/catalogue.js';
import { loadScenarioFile } from '../../src/scenario/load.js';

const run = inlineRunner((t) => runTask(modelFor(t.file, t.variant, t.params), t));

describe('lockdep per variant', () => {
  const variants = catalogueFiles().flatMap((f) => {
    const sc = loadScenarioFile(f);
    return Object.keys(sc.spec.variants).map((v) => ({ sc, v }));
  });

  it('agrees with explore on every catalogue variant', async () => {
    expect(variants.length).toBeGreaterThan(20);
    for (const { sc, v } of variants) {
      const o = exploreOptions({}, sc.spec.explore);
      const spec = sc.spec.variants[v] as { expect: string[]; complete?: boolean };
      const model = modelFor(sc.file, v, {});
      const e = await explore({ file: sc.file, variant: v, model, expected: spec.expect as never, mustComplete: spec.complete === true }, o, run);
      const l = await lockdepVariant(sc, v, o, {});
      const fromExplore = LOCKDEP_KINDS.filter((k) => e.findings.some((f) => f.verdict === k));
      expect(l.found, `${sc.spec.name}/${v}`).toEqual(fromExplore);
      expect(l.asExpected, `${sc.spec.name}/${v}`).toBe(LOCKDEP_KINDS.every((k) => spec.expect.includes(k) === fromExplore.includes(k)));
    }
  }, 120_000);

  it('philosophers-3: one graph per variant, no false cycle in `ordered`', async () => {
    const sc = loadScenarioFile(catalogueFiles().find((f) => f.endsWith('philosophers-3.yaml')) as string);
    const o = exploreOptions({}, sc.spec.explore);
    const ordered = await lockdepVariant(sc, 'ordered', o, {});
    expect(ordered.splats).toEqual([]);
    expect(ordered.edges.map((e) => `${e.from}->${e.to}`).sort()).toEqual(['fork0->fork1', 'fork0->fork2', 'fork1->fork2']);
    const def = await lockdepVariant(sc, 'default', o, {});
    const text = def.splats[0]?.text ?? '';
    for (const line of [
      /^={40,}$/m,
      /^WARNING: possible circular locking dependency detected$/m,
      /^phil\d is trying to acquire lock:$/m,
      /^but task is already holding lock:$/m,
      /^the existing dependency chain \(in reverse order\) is:$/m,
      /^-> #2 \(fork\d\)\{write\}:\n {7}first seen: phil\d, step \d+\n {7}phil\d:op1$/m,
      /^-> #0 \(fork\d\)\{write\}:$/m,
      /^Chain exists of:\n {2}fork0 --> fork1 --> fork2$/m,
      /^ {7}CPU0 {22}CPU1$/m,
      /^ \*\*\* DEADLOCK \*\*\*$/m,
      /^1 lock held by phil2:\n #0: \(fork2\)\{write\}/m,
    ])
      expect(text).toMatch(line);
    expect(lockdepText(def)).toMatch(/as expected \(potential-deadlock\)/);
  });

  it('the hierarchy break that explore reports in truncate-under-i-mmap is a lockdep splat too', async () => {
    const sc = loadScenarioFile(catalogueFiles().find((f) => f.endsWith('mm-shmem-fault-vs-punch.yaml')) as string);
    const r = await lockdepVariant(sc, 'truncate-under-i-mmap', exploreOptions({}, sc.spec.explore), {});
    expect(r.found).toEqual(['potential-deadlock']);
    expect(r.splats[0]?.text).toMatch(/cpu1 is trying to acquire lock:\n\(folio_lock\)\{write\}, at: truncate_range:lock/);
    expect(r.splats[0]?.text).toMatch(/2 locks held by cpu1:\n #0: \(i_rwsem\)\{write\}.*\n #1: \(i_mmap_rwsem\)\{read\}/);
  });

  it('sleep-in-atomic is printed as might_sleep prints it, naming the actor', async () => {
    const sc = loadScenarioFile(catalogueFiles().find((f) => f.endsWith('spin-then-mutex.yaml')) as string);
    const [v] = Object.keys(sc.spec.variants) as [string];
    const r = await lockdepVariant(sc, v, exploreOptions({}, sc.spec.explore), {});
    const s = r.splats.find((x) => x.verdict === 'sleep-in-atomic')?.text ?? '';
    expect(s).toMatch(/^BUG: sleeping function called from invalid context at T0:op1$/m);
    expect(s).toMatch(/^in_atomic\(\): 1, irqs_disabled\(\): 0, non_block: 0, name: T0$/m);
    expect(s).toMatch(/^1 lock held by T0:\n #0: \(lock\)\{write\}, at: T0:op0$/m);
  });
});
