/**
 * Scenario vocabulary of the per-VMA-lock mechanism (actors/mm/vma-fault.ts): the check a forked
 * child runs on its memory, and the switches of the per-VMA-lock fixes. `read`/`write` take
 * `vma_lock: true` to fault under the VMA read lock first (src/scenario/mm-ops.ts).
 */
import * as Schema from 'effect/Schema';
import { fork_snapshot_check, SNAPSHOT_MAX } from '../../actors/mm/fork-check.js';
import { MAX_PC } from '../kernel/defs.js';
import { type Kernel, KERNEL } from '../kernel/kernel.js';
import { bind } from '../engine/proc.js';
import { registerOp, registerSwitch } from './ops.js';
import type { VmaId } from '../kernel/ids.js';

const Name = Schema.String.check(Schema.isMinLength(1));
const Page = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_PC - 1 }));
const Value = Schema.Int.check(Schema.isBetween({ minimum: -1_000_000, maximum: 1_000_000 }));
const Store = Schema.Struct({ page: Page, value: Value });

registerOp({
  name: 'fork_snapshot_check',
  doc:
    "a forked child checks its VMA: of the parent's stores (page, value, in one thread's program order) it may see a prefix, " +
    'never a later store without an earlier one (an `invariant` verdict otherwise); run it after the fork (e.g. behind a fence)',
  fields: { vma: Name, stores: Schema.Array(Store).check(Schema.isMinLength(2), Schema.isMaxLength(SNAPSHOT_MAX)) },
  refs: { vma: 'vma' },
  compile: (a: { vma: string; stores: readonly { page: number; value: number }[] }, env) => {
    const v = env.names.vma.get(a.vma) as VmaId;
    const mm = (KERNEL.find(env.b) as Kernel).vma(v).mm;
    const s = (i: number): { page: number; value: number } => a.stores[i] ?? { page: 0, value: 0 };
    return {
      op: 'call',
      call: bind(fork_snapshot_check, {
        mm,
        vma: v,
        n: a.stores.length,
        p0: s(0).page,
        v0: s(0).value,
        p1: s(1).page,
        v1: s(1).value,
        p2: s(2).page,
        v2: s(2).value,
        p3: s(3).page,
        v3: s(3).value,
      }),
    };
  },
});

registerSwitch(
  'per_vma_lock',
  'CONFIG_PER_VMA_LOCK (on by default on x86 since v6.4): every user fault (read/write, the guest driver) tries lock_vma_under_rcu first; off: the mmap_lock fault only (or per access with `vma_lock: true`)',
);
registerSwitch(
  'fork_lock_parent_vmas',
  'dup_mmap write-locks each parent VMA (vma_start_write) before copying it ("fork: lock VMAs of the parent process when forking", fb49c455323f, v6.5-rc1); off: v6.4',
);
registerSwitch(
  'lock_vma_check_anon_vma_under_lock',
  'lock_vma_under_rcu checks vma->anon_vma after vma_start_read ("mm: lock_vma_under_rcu() must check vma->anon_vma under vma lock", 657b5146955e, v6.5-rc); off: v6.4, before it',
);
