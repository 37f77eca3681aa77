/**
 * Kernel operations of the scenario vocabulary: each compiles to a call of the procedure that
 * models it (actors/mm). Pages are in the mapping's unit (huge pages on hugetlb).
 */
import * as Schema from 'effect/Schema';
import { cpu_access } from '../../actors/mm/access.js';
import { memfd_pin_folios, pin_user_pages, pin_user_pages_fast, unpin_user_pages } from '../../actors/mm/gup.js';
import { hmm_mirror_update } from '../../actors/mm/hmm.js';
import { madvise_dontneed, munmap } from '../../actors/mm/madvise.js';
import { fork_mm } from '../../actors/mm/fork.js';
import { mremap_move } from '../../actors/mm/mremap.js';
import { ftruncate, MFD_ALLOW_SEALING, memfd_add_seals, memfd_create } from '../../actors/mm/memfd.js';
import { punch_hole } from '../../actors/mm/punch-hole.js';
import { MAX_PC, SEAL_NAMES } from '../kernel/defs.js';
import { type Kernel, KERNEL } from '../kernel/kernel.js';
import { bind } from '../engine/proc.js';
import { type CompileEnv, registerOp, registerSwitch } from './ops.js';
import { SealName } from './world.js';
import type { MemfdId, MmId, VmaId } from '../kernel/ids.js';

const Name = Schema.String.check(Schema.isMinLength(1));
const Page = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_PC - 1 }));
const Pages = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: MAX_PC }));
const Size = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_PC }));
/** `vma_lock: true`: fault under the per-VMA read lock first (CONFIG_PER_VMA_LOCK, actors/mm/vma-fault.ts). */
const VmaLock = Schema.optional(Schema.Boolean);
const Value = Schema.Int.check(Schema.isBetween({ minimum: -1_000_000, maximum: 1_000_000 }));

const vmaId = (env: CompileEnv, name: string): VmaId => env.names.vma.get(name) as VmaId;
const memfdId = (env: CompileEnv, name: string): MemfdId => env.names.memfd.get(name) as MemfdId;
const kernelOf = (env: CompileEnv): Kernel => KERNEL.find(env.b) as Kernel;
/** The mm a VMA belongs to (an actor touches the VMAs of its own process). */
const mmOf = (env: CompileEnv, vma: VmaId): MmId => kernelOf(env).vma(vma).mm;

for (const op of ['read', 'write'] as const) {
  registerOp({
    name: op,
    doc: `a user-space ${op === 'read' ? 'load from' : 'store to'} a page of a VMA; faults on a miss${op === 'write' ? ' or a read-only PTE; `value` is what gets stored' : ''}; \`vma_lock\`: fault under the per-VMA read lock first (CONFIG_PER_VMA_LOCK, v6.4)`,
    fields: op === 'write' ? { vma: Name, page: Page, value: Schema.optional(Value), vma_lock: VmaLock } : { vma: Name, page: Page, vma_lock: VmaLock },
    refs: { vma: 'vma' },
    compile: (a: { vma: string; page: number; value?: number; vma_lock?: boolean }, env) => {
      const v = vmaId(env, a.vma);
      return { op: 'call', call: bind(cpu_access, { mm: mmOf(env, v), vma: v, page: a.page, write: op === 'write' ? 1 : 0, value: a.value ?? 1, vl: a.vma_lock ? 1 : 0 }) };
    },
  });
}

registerOp({
  name: 'madvise_dontneed',
  doc:
    'madvise(MADV_DONTNEED) over pages of a VMA (default: all of it); with config_pt_reclaim the PTE tables it empties are freed; ' +
    '`need_resched_at`: the page at which zap_pte_range sees need_resched() once (drops the PTL, cond_resched, retries); ' +
    '`vma_lock`: under the per-VMA read lock first (v6.17 MADVISE_VMA_READ_LOCK; the switch madvise_dontneed_per_vma_lock does it for every call)',
  fields: { vma: Name, page: Schema.optional(Page), pages: Schema.optional(Pages), need_resched_at: Schema.optional(Page), vma_lock: VmaLock },
  refs: { vma: 'vma' },
  compile: (a: { vma: string; page?: number; pages?: number; need_resched_at?: number; vma_lock?: boolean }, env) => {
    const v = vmaId(env, a.vma);
    const pages = a.pages ?? kernelOf(env).vma(v).pages - (a.page ?? 0);
    return { op: 'call', call: bind(madvise_dontneed, { mm: mmOf(env, v), vma: v, page: a.page ?? 0, pages, resched: a.need_resched_at ?? -1, vl: a.vma_lock ? 1 : 0 }) };
  },
});

registerOp({
  name: 'munmap',
  doc: 'munmap a whole VMA',
  fields: { vma: Name },
  refs: { vma: 'vma' },
  compile: (a: { vma: string }, env) => {
    const v = vmaId(env, a.vma);
    return { op: 'call', call: bind(munmap, { mm: mmOf(env, v), vma: v }) };
  },
});

registerOp({
  name: 'punch_hole',
  doc: 'fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) over pages of a memfd',
  fields: { memfd: Name, page: Page, pages: Schema.optional(Pages) },
  refs: { memfd: 'memfd' },
  compile: (a: { memfd: string; page: number; pages?: number }, env) => ({ op: 'call', call: bind(punch_hole, { map: memfdId(env, a.memfd), start: a.page, len: a.pages ?? 1 }) }),
});

registerOp({
  name: 'ftruncate',
  doc: 'ftruncate a memfd to `pages` pages',
  fields: { memfd: Name, pages: Size },
  refs: { memfd: 'memfd' },
  compile: (a: { memfd: string; pages: number }, env) => ({ op: 'call', call: bind(ftruncate, { map: memfdId(env, a.memfd), size: a.pages }) }),
});

registerOp({
  name: 'memfd_create',
  doc: 'memfd_create a memfd declared with `created: false` (MFD_ALLOW_SEALING unless allow_sealing is false)',
  fields: { memfd: Name, allow_sealing: Schema.optional(Schema.Boolean) },
  refs: { memfd: 'memfd' },
  compile: (a: { memfd: string; allow_sealing?: boolean }, env) => ({
    op: 'call',
    call: bind(memfd_create, { map: memfdId(env, a.memfd), flags: a.allow_sealing === false ? 0 : MFD_ALLOW_SEALING }),
  }),
});

registerOp({
  name: 'add_seals',
  doc: 'fcntl(F_ADD_SEALS) on a memfd',
  fields: { memfd: Name, seals: Schema.Array(SealName) },
  refs: { memfd: 'memfd' },
  compile: (a: { memfd: string; seals: readonly string[] }, env) => ({
    op: 'call',
    call: bind(memfd_add_seals, { map: memfdId(env, a.memfd), seals: a.seals.reduce((s, n) => s | (SEAL_NAMES[n] ?? 0), 0) }),
  }),
});

for (const op of ['pin', 'pin_fast'] as const) {
  registerOp({
    name: op,
    doc: `${op === 'pin' ? 'pin_user_pages' : 'pin_user_pages_fast'}(FOLL_PIN | FOLL_LONGTERM) over pages of a VMA; the thread keeps the pins until unpin`,
    fields: { vma: Name, page: Page, pages: Schema.optional(Pages), write: Schema.optional(Schema.Boolean) },
    refs: { vma: 'vma' },
    compile: (a: { vma: string; page: number; pages?: number; write?: boolean }, env) => {
      const v = vmaId(env, a.vma);
      return { op: 'call', call: bind(op === 'pin' ? pin_user_pages : pin_user_pages_fast, { mm: mmOf(env, v), vma: v, page: a.page, nr_pages: a.pages ?? 1, write: a.write ? 1 : 0 }) };
    },
  });
}

registerOp({
  name: 'unpin',
  doc: 'unpin_user_pages: drop every pin this thread holds',
  fields: {},
  compile: () => ({ op: 'call', call: bind(unpin_user_pages, {}) }),
});

registerOp({
  name: 'memfd_pin',
  doc: 'memfd_pin_folios over pages of a memfd (allocating missing shmem pages); the thread keeps the pins until unpin',
  fields: { memfd: Name, page: Page, pages: Schema.optional(Pages) },
  refs: { memfd: 'memfd' },
  compile: (a: { memfd: string; page: number; pages?: number }, env) => ({ op: 'call', call: bind(memfd_pin_folios, { map: memfdId(env, a.memfd), index: a.page, nr_folios: a.pages ?? 1 }) }),
});

registerOp({
  name: 'hmm_mirror',
  doc: "the HMM driver pattern (hmm.rst): mirror the VMA's mirror range into its device page table",
  fields: { vma: Name, write: Schema.optional(Schema.Boolean) },
  refs: { vma: 'vma' },
  compile: (a: { vma: string; write?: boolean }, env) => {
    const v = vmaId(env, a.vma);
    const mi = kernelOf(env).vma(v).mirror;
    if (mi < 0) throw new Error(`hmm_mirror: VMA ${a.vma} has no mirror (declare one with \`mirror:\`)`);
    return { op: 'call', call: bind(hmm_mirror_update, { mi, write: a.write ? 1 : 0 }) };
  },
});

registerOp({
  name: 'mremap',
  doc:
    'mremap(MREMAP_MAYMOVE | MREMAP_FIXED) of a whole one-pmd VMA onto `to`, a VMA declared unpopulated that stands for the one copy_vma creates ' +
    '(same size, same memfd and offset; no other actor may touch it before): move_page_tables (move_normal_pmd / move_huge_pmd / move_ptes) under mmap_write_lock and the rmap locks; `no_move_pmd`: an architecture without CONFIG_HAVE_MOVE_PMD (move_ptes only); ' +
    '`dontunmap`: MREMAP_DONTUNMAP (the old VMA stays, emptied; unlink_anon_vmas clears its anon_vma)',
  fields: { vma: Name, to: Name, no_move_pmd: Schema.optional(Schema.Boolean), dontunmap: Schema.optional(Schema.Boolean) },
  refs: { vma: 'vma', to: 'vma' },
  compile: (a: { vma: string; to: string; no_move_pmd?: boolean; dontunmap?: boolean }, env) => {
    const K = kernelOf(env);
    const o = K.vma(vmaId(env, a.vma));
    const n = K.vma(vmaId(env, a.to));
    if (o.mm !== n.mm) throw new Error(`mremap: ${a.vma} and ${a.to} must be VMAs of one process`);
    if (o.pages !== n.pages || o.pages !== 4 || o.memfd !== n.memfd || o.pgoff !== n.pgoff || o.hugetlb_vma_lock >= 0)
      throw new Error(`mremap: ${a.vma} and ${a.to} must be one pmd (4 pages) each, non-hugetlb, mapping the same memfd at the same offset (or both anonymous)`);
    return { op: 'call', call: bind(mremap_move, { mm: o.mm, old: vmaId(env, a.vma), nw: vmaId(env, a.to), noMovePmd: a.no_move_pmd ? 1 : 0, dontunmap: a.dontunmap ? 1 : 0 }) };
  },
});

registerOp({
  name: 'fork',
  doc:
    "fork's dup_mmap + copy_page_range from the actor's process into `child`, a process declared with the same VMA layout and nothing mapped " +
    '(it stands for the mm dup_mm creates; no other actor may touch it before): anon CoW setup, file PTEs of VMAs with an anon_vma, pinned anon pages copied eagerly',
  fields: { child: Name },
  refs: { child: 'mm' },
  compile: (a: { child: string }, env) => {
    const K = kernelOf(env);
    const p = env.actor.mm;
    const c = env.names.mm.get(a.child) as MmId;
    const pv = K.mm(p).vmas.map((v) => K.vma(v));
    const cv = K.mm(c).vmas.map((v) => K.vma(v));
    const same = p !== c && pv.length === cv.length && pv.every((v, i) => v.start === cv[i]?.start && v.end === cv[i]?.end && v.memfd === cv[i]?.memfd && v.pgoff === cv[i]?.pgoff);
    if (!same) throw new Error(`fork: process ${a.child} must be another process declared with the parent's VMA layout (same sizes, files and offsets, in order)`);
    return { op: 'call', call: bind(fork_mm, { p, c }) };
  },
});

registerSwitch(
  'mremap_recheck_normal_pmd',
  'move_normal_pmd rechecks the old pmd under the locks ("mm/mremap: fix move_normal_pmd/retract_page_tables race", 6fa1066fc5d0, v6.12); off: v6.11, pmd_populate of whatever *old_pmd was',
);
registerSwitch('bug_punch_skip_unmap', 'shmem punch hole: skip unmap_mapping_range and the re-unmap of mapped folios (folios leave the page cache still mapped)');
registerSwitch('bug_hmm_skip_read_retry', 'HMM driver: program device PTEs without mmu_interval_read_retry under the driver lock');
registerSwitch('bug_truncate_under_i_mmap', 'shmem_undo_range: lock each folio while holding i_mmap_rwsem (folio_lock inside i_mmap_rwsem)');
registerSwitch('bug_munmap_free_pgtables_before_unlink', 'munmap: free_pgtables frees the page tables before unlink_file_vma hides the VMA from rmap (planted bug)');
