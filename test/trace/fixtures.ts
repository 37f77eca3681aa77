/** Real traces for the exporter tests: the abba deadlock witness, and a small model with hostile names. */
import { compileScript, type ScriptOp } from '../../actors/script.js';
import { ModelBuilder, type Model } from '../../src/engine/model.js';
import { BLOCKED, noLocals, proc } from '../../src/engine/proc.js';
import { World } from '../../src/engine/world.js';
import { RandomWalk } from '../../src/explore/random.js';
import { replayToken } from '../../src/explore/replayer.js';
import { runOnce } from '../../src/explore/run.js';
import { LockGraph } from '../../src/locks/lockdep.js';
import { encodeToken } from '../../src/explore/token.js';
import { LockKind } from '../../src/locks/space.js';
import type { TraceEvent } from '../../src/engine/events.js';
import type { TraceMeta } from '../../src/trace/json.js';
import { catalogueModel, dfsOf } from '../helpers.js';

export interface Trace {
  readonly events: readonly TraceEvent[];
  readonly meta: TraceMeta;
}

/** Replay `token` on `model` and package the events with their meta. */
export function replay(model: Model, scenario: string, variant: string, token: string): Trace {
  const r = replayToken(model, token, 1000);
  return { events: r.events, meta: { scenario, variant, token, verdict: r.verdict } };
}

/** The first deadlock DFS finds in abba, replayed from its token (a fresh model and search each call). */
export function abbaDeadlock(): Trace & { graph: ReturnType<typeof dfsOf>['graph']; classes: readonly string[] } {
  const model = catalogueModel('abba');
  const r = dfsOf(model, { maxSteps: 100 });
  const f = r.findings.find((x) => x.verdict.code === 'deadlock');
  if (!f) throw new Error('abba: DFS found no deadlock');
  return { ...replay(model, 'abba', 'default', encodeToken(f.choices)), graph: r.graph, classes: model.classes };
}

export const EVIL_ACTOR = '<script>alert(1)</script>';
export const EVIL_LOCK = '"><img src=x onerror=alert(2)>;#%%';

/**
 * A producer (named EVIL_ACTOR) takes EVIL_LOCK, calls a helper that takes M and drops the outer lock
 * (hand-over-hand, out of LIFO order), sends to a consumer blocked in recv, notes, and releases M.
 */
export function messagingModel(): Model {
  const b = new ModelBuilder('evil');
  const L = b.lock(EVIL_LOCK, LockKind.Mutex);
  const M = b.lock('M', LockKind.Mutex);
  const helper = proc('helper & co', 'test', (a: { x: number; y: number }) => ({ x: a.x, y: a.y }), {
    take: (k) => (k.mutex_lock(M) ? 'drop' : BLOCKED),
    drop: (k) => (k.mutex_unlock(L) ? 'out' : BLOCKED),
    out: (k) => k.ret(7),
  });
  const producer = proc(EVIL_ACTOR, 'test', noLocals, {
    a: (k) => (k.mutex_lock(L) ? 'b' : BLOCKED),
    b: (k) => k.call(helper, { x: 1, y: 2 }, 'c'),
    c: (k) => {
      k.send(1, 5, 6, 7);
      return 'd';
    },
    d: (k) => {
      k.note(() => 'note with <b>markup</b>; and # and\nnewline');
      return 'e';
    },
    e: (k) => (k.mutex_unlock(M) ? 'f' : BLOCKED),
    f: (k) => k.ret(0),
  });
  const consumer = proc('consumer', 'test', () => ({ from: 0, type: 0, a: 0, b: 0 }), {
    r: (k, l) => (k.recv(l) ? 'x' : BLOCKED),
    x: (k) => k.ret(0),
  });
  b.thread(EVIL_ACTOR, producer);
  b.thread('consumer', consumer);
  return b.build();
}

/** The consumer first (it blocks in recv), then the producer runs to the end. */
export function messagingTrace(): Trace {
  return replay(messagingModel(), 'evil<x>', 'v"1', `v1.1${'0'.repeat(20)}`);
}

/** A tiny abba model built in code, with a lock whose name could break every output format. */
export function evilAbbaModel(): Model {
  const b = new ModelBuilder('evil-abba');
  const A = b.lock(EVIL_LOCK, LockKind.Mutex);
  const B = b.lock('B', LockKind.Mutex);
  const kinds = b.locks.map((l) => l.kind);
  const ops = (x: number, y: number) =>
    [
      { op: 'lock', lock: x },
      { op: 'lock', lock: y },
      { op: 'unlock', lock: y },
      { op: 'unlock', lock: x },
    ] as const;
  b.thread(EVIL_ACTOR, compileScript(EVIL_ACTOR, ops(A, B), kinds));
  b.thread('T1', compileScript('T1', ops(B, A), kinds));
  return b.build();
}

/** Four CPUs taking mmap_lock (writers and readers) then a spinlock, six rounds each: ~200 events per run. */
export function contentionModel(): Model {
  const b = new ModelBuilder('contention');
  const mmap = b.lock('mmap_lock', LockKind.Rwsem);
  const ptl = b.lock('ptl', LockKind.Spin);
  const kinds = b.locks.map((l) => l.kind);
  for (let t = 0; t < 4; t++) {
    const ops: ScriptOp[] = [];
    for (let r = 0; r < 6; r++) {
      ops.push({ op: t % 2 ? 'down_read' : 'down_write', lock: mmap }, { op: 'lock', lock: ptl }, { op: 'unlock', lock: ptl });
      ops.push({ op: 'might_sleep' }, { op: t % 2 ? 'up_read' : 'up_write', lock: mmap });
    }
    b.thread(`cpu${t}`, compileScript(`cpu${t}`, ops, kinds));
  }
  return b.build();
}

/** The replay token of one seeded random walk on `model`. */
export function randomToken(model: Model, seed: number, maxSteps = 1000): string {
  const w = new World(model, new LockGraph());
  const s = new RandomWalk(seed);
  runOnce(w, w.snapshot(), s, 0, maxSteps, new Int32Array(w.nthreads));
  return encodeToken(w.choices);
}

/** Two ww_mutex contexts taking X and Y in opposite orders; the younger gets -EDEADLK, backs off and retries. */
export function wwModel(): Model {
  const b = new ModelBuilder('ww');
  const X = b.lock('X', LockKind.WwMutex);
  const Y = b.lock('Y', LockKind.WwMutex);
  const kinds = b.locks.map((l) => l.kind);
  const older: ScriptOp[] = [
    { op: 'ww_acquire_init', stamp: 1 },
    { op: 'ww_lock', lock: X, else: 'exit', label: 'x' },
    { op: 'ww_lock', lock: Y, else: 'exit' },
    { op: 'unlock', lock: Y },
    { op: 'unlock', lock: X },
    { op: 'ww_acquire_fini' },
  ];
  const younger: ScriptOp[] = [
    { op: 'ww_acquire_init', stamp: 2 },
    { op: 'ww_lock', lock: Y, else: 'retry', label: 'retry' },
    { op: 'ww_lock', lock: X, else: 'backoff' },
    { op: 'unlock', lock: X },
    { op: 'unlock', lock: Y },
    { op: 'goto', to: 'done' },
    { op: 'unlock', lock: Y, label: 'backoff' },
    { op: 'goto', to: 'retry' },
    { op: 'ww_acquire_fini', label: 'done' },
  ];
  b.thread('older', compileScript('older', older, kinds));
  b.thread('younger', compileScript('younger', younger, kinds));
  return b.build();
}
