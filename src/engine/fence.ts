/**
 * Fences (after include/linux/dma-fence.h): a shared one-shot object one actor signals and others
 * wait on; a waiter sleeps until the fence is signalled (dma_fence_wait), dma_fence_signal wakes
 * every waiter. Fence state lives in world memory; each operation is a trace event.
 */
import { T_WAIT_LOCK, THREAD_STRIDE } from '../locks/space.js';
import type { Ctx } from './ctx.js';
import { fenceWait } from './mailbox-layout.js';

export class Fences {
  constructor(private readonly k: Ctx) {}

  /** dma_fence_signal: mark fence `f` signalled and wake its waiters (signalling twice changes nothing). */
  signal(f: number): void {
    const w = this.k.w;
    const slot = w.model.fenceBase + f;
    const was = w.get(slot);
    w.set(slot, 1);
    this.event('signal', f);
    if (was) return;
    const code = fenceWait(f);
    for (let t = 0; t < w.nthreads; t++) {
      const s = w.threadBase + t * THREAD_STRIDE + T_WAIT_LOCK;
      if (w.get(s) === code) {
        w.set(s, 0);
        w.wake(t);
      }
    }
  }

  /** dma_fence_wait: true once fence `f` is signalled; false when the thread sleeps on it (return BLOCKED; the step re-runs when woken) or the run ended. */
  wait(f: number): boolean {
    const k = this.k;
    const w = k.w;
    if (w.get(w.model.fenceBase + f) !== 0) {
      this.event('waited', f);
      return true;
    }
    if (!k.might_sleep('dma_fence_wait')) return false;
    w.set(w.threadBase + k.tid * THREAD_STRIDE + T_WAIT_LOCK, fenceWait(f));
    w.block(k.tid);
    this.event('wait', f);
    return false;
  }

  /** Whether fence `f` is signalled (dma_fence_is_signaled). */
  signalled(f: number): boolean {
    const w = this.k.w;
    return w.get(w.model.fenceBase + f) !== 0;
  }

  private event(op: 'signal' | 'wait' | 'waited', f: number): void {
    const w = this.k.w;
    w.emit?.({ k: 'fence', i: w.steps, t: w.threadName(this.k.tid), op, fence: w.model.fences[f] ?? `fence${f}` });
  }
}
