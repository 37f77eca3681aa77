/**
 * Time to first bug is stamped when the bug is found, not when its task returns. udmabuf-pipeline-encoders
 * /discard breaks its invariant ~150 states into a ~54k-state DFS that goes on after it (the slow tail).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULTS, explore } from '../../src/explore/explore.js';
import { inlineRunner } from '../../src/explore/pool.js';
import { runTask, type Task, type TaskResult } from '../../src/explore/task.js';
import { catalogueModel, dfsOf, scenarioFile, UNBOUNDED } from '../helpers.js';

const target = () => ({
  file: scenarioFile('udmabuf-pipeline-encoders'),
  variant: 'discard',
  model: catalogueModel('udmabuf-pipeline-encoders', 'discard'),
  expected: [],
  mustComplete: false,
});

afterEach(() => vi.restoreAllMocks());

describe('time to first bug', () => {
  it('the DFS stamps a finding when it records it, not when the search returns (a clock that ticks per read)', () => {
    // Every clock read advances it by 1; with clockEvery 1 the driver reads it once per step, so a
    // finding's atMs is the steps before it, and the clock after the search is the whole search.
    let tick = 1000;
    vi.spyOn(Date, 'now').mockImplementation(() => ++tick);
    const t0 = Date.now();
    const r = dfsOf(target().model, { clockEvery: 1, t0 });
    const total = Date.now() - t0;
    const first = r.findings[0];
    expect(first?.verdict.code).toBe('invariant');
    expect(r.distinct).toBeGreaterThan(40_000);
    expect(first?.atMs).toBeGreaterThan(0);
    expect(first?.atMs).toBeLessThan(1000);
    expect(total).toBeGreaterThan(40_000);
  });

  it('a DFS task stamps the finding before the rest of its search and its shrinking (a clock that ticks per read)', () => {
    const t = target();
    let tick = 1000;
    vi.spyOn(Date, 'now').mockImplementation(() => ++tick);
    const task: Task = {
      file: t.file, variant: t.variant, params: {}, kind: 'dfs', seed: 1, prefix: [], runStart: 0, runCount: 0,
      maxSteps: DEFAULTS.maxSteps, maxStates: UNBOUNDED.maxStates, depth: 3, k: 0, preemptions: 0,
      deadline: Number.POSITIVE_INFINITY, coverage: false, por: true,
    };
    const r = runTask(t.model, task);
    expect(r.complete).toBe(true);
    expect(r.findings[0]?.verdict.code).toBe('invariant');
    // The clock is read at the start, at the finding, once per 4096 states after it, and at the end:
    // stamped when the search returned (as before), atMs would be elapsedMs less one or two reads.
    expect(r.findings[0]?.atMs).toBeGreaterThan(0);
    expect((r.findings[0]?.atMs as number) * 4).toBeLessThan(r.elapsedMs);
  });

  it('explore: timeToFirstBugMs <= elapsedMs, and strictly less than the DFS task that goes on after the bug', async () => {
    const t = target();
    const tasks: TaskResult[] = [];
    const run = inlineRunner((x) => {
      const r = runTask(t.model, x);
      tasks.push(r);
      return r;
    });
    const r = await explore(t, { ...DEFAULTS, strategy: 'dfs', maxStates: UNBOUNDED.maxStates }, run);
    expect(r.findings.map((f) => f.verdict)).toContain('invariant');
    expect(r.timeToFirstBugMs).not.toBeNull();
    expect(r.timeToFirstBugMs as number).toBeGreaterThanOrEqual(0);
    expect(r.timeToFirstBugMs as number).toBeLessThanOrEqual(r.elapsedMs);
    // The task ends at timeToFirstBugMs - atMs + elapsedMs (from explore's start): the bug came first.
    const task = tasks.find((x) => x.findings.length > 0) as TaskResult;
    expect(task.findings[0]?.atMs).toBeLessThan(task.elapsedMs);
    expect(r.timeToFirstBugMs as number).toBeLessThan(r.elapsedMs);
  });
});
