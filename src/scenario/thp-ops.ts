/**
 * THP operations of the scenario vocabulary: madvise(MADV_HUGEPAGE), madvise(MADV_COLLAPSE) and
 * splitting a THP folio (actors/mm/thp-madvise.ts, thp-split.ts). Anonymous THP faults need no
 * operation: a `read` or `write` in a VMA declared `thp: true` (or after madvise_hugepage) takes them.
 */
import * as Schema from 'effect/Schema';
import { ensureThpFaults } from '../../actors/mm/thp-deposit.js';
import { madvise_collapse, madvise_hugepage } from '../../actors/mm/thp-madvise.js';
import { split_folio } from '../../actors/mm/thp-split.js';
import { MAX_PC } from '../kernel/defs.js';
import { type Kernel, KERNEL } from '../kernel/kernel.js';
import type { VmaId } from '../kernel/ids.js';
import { bind } from '../engine/proc.js';
import { type CompileEnv, registerOp, registerSwitch } from './ops.js';

const Name = Schema.String.check(Schema.isMinLength(1));
const Page = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_PC - 1 }));

const kernelOf = (env: CompileEnv, op: string): Kernel => {
  const K = KERNEL.find(env.b);
  if (!K) throw new Error(`${op} needs a \`world\` section`);
  return K;
};

registerOp({
  name: 'madvise_hugepage',
  doc: 'madvise(MADV_HUGEPAGE) over a VMA: hugepage_madvise sets VM_HUGEPAGE under mmap_write_lock and vma_start_write; later anonymous faults may map THPs and the huge zero page',
  fields: { vma: Name },
  refs: { vma: 'vma' },
  compile: (a: { vma: string }, env) => {
    const K = kernelOf(env, 'madvise_hugepage');
    const v = env.names.vma.get(a.vma) as VmaId;
    if (K.vma(v).memfd >= 0) throw new Error(`madvise_hugepage: VMA ${a.vma} maps a memfd; only anonymous VMAs take MADV_HUGEPAGE here (file THP faults are not modelled)`);
    ensureThpFaults(env.b);
    return { op: 'call', call: bind(madvise_hugepage, { mm: K.vma(v).mm, vma: v }) };
  },
});

registerOp({
  name: 'madvise_collapse',
  doc:
    'madvise(MADV_COLLAPSE) of the pmd holding `page`: madvise_collapse in the calling thread; anonymous: hpage_collapse_scan_pmd → collapse_huge_page, ' +
    'shmem: hpage_collapse_scan_file → collapse_file → collapse_pte_mapped_thp (install_pmd); 0, -EAGAIN, -EBUSY, -ENOMEM or -EINVAL',
  fields: { vma: Name, page: Schema.optional(Page) },
  refs: { vma: 'vma' },
  compile: (a: { vma: string; page?: number }, env) => {
    const K = kernelOf(env, 'madvise_collapse');
    const v = env.names.vma.get(a.vma) as VmaId;
    ensureThpFaults(env.b);
    return { op: 'call', call: bind(madvise_collapse, { mm: K.vma(v).mm, vma: v, vpn: K.vpn(v, a.page ?? 0) }) };
  },
});

registerOp({
  name: 'split_folio',
  doc:
    'split the anonymous THP mapped at `page` (the debugfs split_huge_pages interface: split_huge_pages_pid → split_folio): can_split_folio, ' +
    'anon_vma_lock_write, unmap_folio (split_huge_pmd), folio_ref_freeze; 0, -EAGAIN (extra references), -EBUSY (no anon_vma) or -EINVAL (no THP there)',
  fields: { vma: Name, page: Schema.optional(Page) },
  refs: { vma: 'vma' },
  compile: (a: { vma: string; page?: number }, env) => {
    const K = kernelOf(env, 'split_folio');
    const v = env.names.vma.get(a.vma) as VmaId;
    if (K.vma(v).memfd >= 0) throw new Error(`split_folio: VMA ${a.vma} maps a memfd; only anonymous THPs are split here`);
    ensureThpFaults(env.b);
    return { op: 'call', call: bind(split_folio, { mm: K.vma(v).mm, vma: v, vpn: K.vpn(v, a.page ?? 0) }) };
  },
});

registerSwitch(
  'before_fix_collapse_pte_mapped_thp_vs_uffd',
  'collapse_pte_mapped_thp as before "mm/khugepaged: fix collapse_pte_mapped_thp() versus uffd" (a98460494b16, v6.5; Fixes: 1043173eb5eb): ' +
    'the PTE lock is dropped after the PTEs are cleared and the pmd lock taken only to retract the table, also for a uffd-armed private VMA; off (the default): the fixed code',
);
