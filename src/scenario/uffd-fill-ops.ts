/**
 * userfaultfd fill operations of the scenario vocabulary (actors/uffd/fill.ts): UFFDIO_COPY,
 * UFFDIO_ZEROPAGE and UFFDIO_CONTINUE into a VMA of the actor's process, and their version switch.
 */
import { Schema } from 'effect';
import { UFFDIO_MODE_DONTWAKE } from '../../actors/uffd/common.js';
import { MFILL_ATOMIC_CONTINUE, MFILL_ATOMIC_COPY, MFILL_ATOMIC_ZEROPAGE, mfill_atomic } from '../../actors/uffd/fill.js';
import { MAX_PC } from '../kernel/defs.js';
import { KERNEL } from '../kernel/kernel.js';
import type { VmaId } from '../kernel/ids.js';
import { type CompileEnv, registerOp, registerSwitch } from './ops.js';
import { bind } from '../engine/proc.js';

const Name = Schema.String.check(Schema.isMinLength(1));
const Page = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_PC - 1 }));
const Pages = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: MAX_PC }));
const Value = Schema.Int.check(Schema.isBetween({ minimum: -1_000_000, maximum: 1_000_000 }));
const Mode = Schema.Array(Schema.Literals(['dontwake']));

interface FillArgs {
  readonly vma: string;
  readonly page?: number;
  readonly pages?: number;
  readonly value?: number;
  readonly mode?: readonly 'dontwake'[];
}

for (const [op, mode, what] of [
  ['uffdio_copy', MFILL_ATOMIC_COPY, 'UFFDIO_COPY: fill missing pages with a copy (`value` is the source data); anonymous (mfill_atomic_pte_copy) or shmem (shmem_mfill_atomic_pte)'],
  ['uffdio_zeropage', MFILL_ATOMIC_ZEROPAGE, 'UFFDIO_ZEROPAGE: map the zero page (anonymous) or a zeroed page-cache folio (shmem)'],
  ['uffdio_continue', MFILL_ATOMIC_CONTINUE, 'UFFDIO_CONTINUE: map the page-cache folio already there (shmem, MINOR mode; -EFAULT when missing)'],
] as const) {
  registerOp({
    name: op,
    doc: `${what}; mfill_atomic with its dst pmd checks, then wakes the faulting threads unless mode has dontwake`,
    fields: { vma: Name, page: Schema.optional(Page), pages: Schema.optional(Pages), value: Schema.optional(Value), mode: Schema.optional(Mode) },
    refs: { vma: 'vma' },
    compile: (a: FillArgs, env: CompileEnv) => {
      const K = KERNEL.find(env.b);
      if (!K) throw new Error(`${op} needs a \`world\` section`);
      const v = env.names.vma.get(a.vma) as VmaId;
      const memfd = K.vma(v).memfd;
      // mfill_atomic: is_vm_hugetlb_page(dst_vma) → mfill_atomic_hugetlb, which the model does not have
      if (memfd >= 0 && K.mapping(memfd).hugetlb)
        throw new Error(`${op}: VMA ${a.vma} maps a hugetlb memfd; UFFDIO_COPY/ZEROPAGE/CONTINUE into a hugetlb VMA is not modelled (mfill_atomic_hugetlb)`);
      const umode = (a.mode ?? []).length ? UFFDIO_MODE_DONTWAKE : 0;
      return { op: 'call', call: bind(mfill_atomic, { mm: K.vma(v).mm, vma: v, dst: K.vpn(v, a.page ?? 0), pages: a.pages ?? 1, mode, umode, value: a.value ?? 1 }) };
    },
  });
}

registerSwitch(
  'uffd_fill_pmd_checks_v6_11',
  'mfill_atomic\'s dst pmd checks as fixed in v6.11 ("userfaultfd: fix checks for huge PMDs" 71c186efc1b2 and "userfaultfd: don\'t BUG_ON() if khugepaged yanks our page table" 4828d207dc51): ' +
    'pmdval re-read after __pte_alloc, !pmd_present or trans_huge → -EEXIST, no BUG_ONs; off: v6.10, BUG_ON(pmd_none(*dst_pmd))',
);
registerSwitch(
  'uffd_fix_checks_for_huge_pmds',
  'mfill_atomic with "userfaultfd: fix checks for huge PMDs" (71c186efc1b2, v6.11, patch 1 of 2) only: no pmd_trans_huge check before __pte_alloc, ' +
    'pmdval re-read after it, !pmd_present or trans_huge → -EEXIST; the BUG_ONs of v6.10 stay (removed by 4828d207dc51, patch 2)',
);
