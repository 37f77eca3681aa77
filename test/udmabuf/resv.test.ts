/**
 * dma_buf_dynamic_attach and dma_buf_detach take dmabuf->resv around the attachments list
 * (drivers/dma-buf/dma-buf.c): an importer attaching or detaching waits while another path holds
 * the resv (here dma_buf_vmap), and the trace shows the acquire in attach and detach.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/engine/events.js';
import { LockGraph } from '../../src/locks/lockdep.js';
import { heldIndex } from '../../src/locks/lock.js';
import { WRITE } from '../../src/locks/space.js';
import { ATT_ATTACHED, ATT_MAPPED, ATT_NONE, MAX_ATT, UB_ATT } from '../../src/kernel/udmabuf.js';
import { UDMABUF } from '../../src/kernel/sys/udmabuf.js';
import { dfs } from '../../src/explore/dfs.js';
import { World } from '../../src/engine/world.js';
import { buildModel } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { manual, model, serial } from '../kernel/mm-helpers.js';
import { at, step } from './helpers.js';

/** Distinct states of the fixture's DFS (attach and detach: 3 steps each, under the resv). */
const DISTINCT = 325;
const m = () => buildModel(loadScenarioFile(join(import.meta.dirname, 'fixtures', 'resv-attach.yaml')), 'default');

function world() {
  const model = m();
  const h = manual(model);
  const U = UDMABUF.of(model);
  const resv = U.ub(0).resv;
  h.w.lockEvent = (tid, op, lock, mode) =>
    h.events.push({ k: 'lock', i: h.w.steps, t: h.w.threadName(tid), op, lock: model.locks[lock]?.name ?? `lock${lock}`, mode: mode === WRITE ? 'w' : 'r' });
  const holds = (name: string): boolean => heldIndex(h.w, h.tid(name), resv, WRITE) >= 0;
  /** The state of gpu's attachment (ATT_NONE without one). */
  const gpuAtt = (): number => {
    for (let a = 0; a < MAX_ATT; a++) {
      const v = h.w.get(U.slot(0, UB_ATT + a));
      if (v >> 2 === h.tid('gpu') + 1) return v & 3;
    }
    return ATT_NONE;
  };
  return { ...h, holds, gpuAtt };
}

const lockEv = (t: string, op: string) => (e: TraceEvent) => e.k === 'lock' && e.t === t && e.op === op && e.lock === 'ub.resv';

describe('the resv in dma_buf_attach and dma_buf_detach', () => {
  it('attach waits for a vmap holding the resv, then takes it around list_add', () => {
    const { w, events, run, runnable, tid, holds, gpuAtt } = world();
    run('vmm', () => holds('vmm')); // udmabuf_create, then dma_buf_vmap takes the resv
    expect(holds('vmm')).toBe(true);
    run('gpu', () => gpuAtt() !== ATT_NONE);
    expect(gpuAtt()).toBe(ATT_NONE); // not on dmabuf->attachments while the vmap holds the resv
    expect(runnable(tid('gpu'))).toBe(false);
    const blocked = at(events, lockEv('gpu', 'block'));
    expect(blocked).toBeGreaterThan(at(events, step('gpu', 'dma_buf_attach:lock')));
    run('vmm', () => !holds('vmm'));
    run('gpu', () => gpuAtt() !== ATT_NONE);
    expect(gpuAtt()).toBe(ATT_ATTACHED);
    expect(w.verdict).toBeNull();
    const acq = at(events, lockEv('gpu', 'acquire'), blocked);
    const add = at(events, step('gpu', 'dma_buf_attach:list_add'), blocked);
    expect(acq).toBeGreaterThan(at(events, lockEv('vmm', 'release')));
    expect(add).toBeGreaterThan(acq);
    run('gpu', () => !holds('gpu'));
    expect(at(events, lockEv('gpu', 'release'), add)).toBeGreaterThan(add);
    expect(at(events, step('gpu', 'dma_buf_attach:unlock'), add)).toBeGreaterThan(add);
  });

  it('detach waits for a vmap holding the resv, then takes it around list_del', () => {
    const { w, events, run, runnable, tid, holds, gpuAtt } = world();
    run('vmm', () => holds('vmm'));
    run('vmm', () => !holds('vmm')); // udmabuf_create and the first dma_buf_vmap
    let mapped = false;
    run('gpu', () => {
      mapped ||= gpuAtt() === ATT_MAPPED;
      return mapped && gpuAtt() === ATT_ATTACHED && !holds('gpu'); // map, then dma_buf_unmap done
    });
    expect(mapped).toBe(true);
    run('vmm', () => holds('vmm')); // the second dma_buf_vmap
    expect(holds('vmm')).toBe(true);
    const from = events.length;
    run('gpu', () => gpuAtt() === ATT_NONE);
    expect(gpuAtt()).toBe(ATT_ATTACHED); // list_del waits for the resv
    expect(runnable(tid('gpu'))).toBe(false);
    const blocked = at(events, lockEv('gpu', 'block'), from);
    expect(blocked).toBeGreaterThan(at(events, step('gpu', 'dma_buf_detach:lock'), from));
    run('vmm', () => !holds('vmm'));
    run('gpu', () => gpuAtt() === ATT_NONE);
    expect(gpuAtt()).toBe(ATT_NONE);
    const acq = at(events, lockEv('gpu', 'acquire'), blocked);
    expect(acq).toBeGreaterThan(blocked);
    expect(at(events, step('gpu', 'dma_buf_detach:list_del'), acq)).toBeGreaterThan(acq);
    expect(w.verdict).toBeNull();
  });

  it("the pipeline's GPU importer unmaps and then detaches on Close, each under the resv", () => {
    const { w, events } = serial(model('udmabuf-pipeline', 'discard-disabled'), 3000);
    expect(w.verdict).toBeNull();
    const order = ['dma_buf_attach:lock', 'dma_buf_attach:list_add', 'dma_buf_unmap:lock', 'dma_buf_unmap:unmap', 'dma_buf_unmap:unlock', 'dma_buf_detach:lock', 'dma_buf_detach:list_del', 'dma_buf_detach:unlock'];
    const idx = order.map((label) => at(events, step('gpu', label)));
    expect(idx.every((i) => i >= 0)).toBe(true);
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
  });

  it('explores clean and complete (DFS)', () => {
    const w = new World(m(), new LockGraph());
    const r = dfs(w, { maxSteps: 500, maxStates: 100_000, preemptions: Number.POSITIVE_INFINITY, deadline: Number.POSITIVE_INFINITY });
    expect(r.findings.map((f) => `${f.verdict.code}: ${f.verdict.message}`)).toEqual([]);
    expect(r.complete).toBe(true);
    expect(r.distinct).toBe(DISTINCT);
  });
});
