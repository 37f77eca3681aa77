/**
 * userfaultfd fill operations of the scenario vocabulary (actors/uffd/fill.ts): UFFDIO_COPY,
 * UFFDIO_ZEROPAGE, UFFDIO_CONTINUE and UFFDIO_POISON into a VMA of the actor's process, and their
 * version switch.
 */
import * as Schema from 'effect/Schema';
import { UFFDIO_MODE_DONTWAKE } from '../../actors/uffd/common.js';
import { MFILL_ATOMIC_CONTINUE, MFILL_ATOMIC_COPY, MFILL_ATOMIC_POISON, MFILL_ATOMIC_ZEROPAGE, mfill_atomic, UFFDIO_COPY_MODE_WP } from '../../actors/uffd/fill.js';
import { MAX_PC, VM_SHARED } from '../kernel/defs.js';
import { KERNEL, VMA_FLAGS } from '../kernel/kernel.js';
import type { VmaId } from '../kernel/ids.js';
import { type CompileEnv, registerOp, registerSwitch } from './ops.js';
import { bind } from '../engine/proc.js';

/** What mfill_atomic_hugetlb models: a shared hugetlb dst, COPY (without mode wp), ZEROPAGE (-EINVAL), CONTINUE. */
function checkHugetlbDst(op: string, a: FillArgs, flags: number): void {
  if (op === 'uffdio_poison') throw new Error(`${op}: VMA ${a.vma} maps a hugetlb memfd; UFFDIO_POISON into hugetlb is not modelled (no huge PTE markers)`);
  if (a.mode?.includes('wp')) throw new Error(`${op}: VMA ${a.vma} maps a hugetlb memfd; mode wp into hugetlb is not modelled (no huge uffd-wp bit)`);
  if (!(flags & VM_SHARED)) throw new Error(`${op}: VMA ${a.vma} is a private hugetlb mapping; mfill_atomic_hugetlb is modelled for shared (shared: true) hugetlb VMAs only`);
}

const Name = Schema.String.check(Schema.isMinLength(1));
const Page = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_PC - 1 }));
const Pages = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: MAX_PC }));
const Value = Schema.Int.check(Schema.isBetween({ minimum: -1_000_000, maximum: 1_000_000 }));
const Mode = Schema.Array(Schema.Literals(['dontwake']));
const CopyMode = Schema.Array(Schema.Literals(['dontwake', 'wp']));

interface FillArgs {
  readonly vma: string;
  readonly page?: number;
  readonly pages?: number;
  readonly value?: number;
  readonly mode?: readonly ('dontwake' | 'wp')[];
}

for (const [op, mode, what] of [
  [
    'uffdio_copy',
    MFILL_ATOMIC_COPY,
    'UFFDIO_COPY: fill missing pages with a copy (`value` is the source data); anonymous (mfill_atomic_pte_copy), shmem (shmem_mfill_atomic_pte) or shared hugetlb (mfill_atomic_hugetlb, pages are huge pages); mode wp is UFFDIO_COPY_MODE_WP (the PTE is installed uffd-wp protected)',
  ],
  ['uffdio_zeropage', MFILL_ATOMIC_ZEROPAGE, 'UFFDIO_ZEROPAGE: map the zero page (anonymous) or a zeroed page-cache folio (shmem); -EINVAL on hugetlb'],
  ['uffdio_continue', MFILL_ATOMIC_CONTINUE, 'UFFDIO_CONTINUE: map the page-cache folio already there (shmem or shared hugetlb, MINOR mode; -EFAULT when missing)'],
  ['uffdio_poison', MFILL_ATOMIC_POISON, 'UFFDIO_POISON: install a poison marker in none PTEs (mfill_atomic_pte_poison, -EEXIST otherwise); a fault on it is VM_FAULT_HWPOISON (SIGBUS)'],
] as const) {
  registerOp({
    name: op,
    doc: `${what}; mfill_atomic with its dst pmd checks, then wakes the faulting threads unless mode has dontwake`,
    fields: { vma: Name, page: Schema.optional(Page), pages: Schema.optional(Pages), value: Schema.optional(Value), mode: Schema.optional(op === 'uffdio_copy' ? CopyMode : Mode) },
    refs: { vma: 'vma' },
    compile: (a: FillArgs, env: CompileEnv) => {
      const K = KERNEL.find(env.b);
      if (!K) throw new Error(`${op} needs a \`world\` section`);
      const v = env.names.vma.get(a.vma) as VmaId;
      const memfd = K.vma(v).memfd;
      // mfill_atomic: is_vm_hugetlb_page(dst_vma) → mfill_atomic_hugetlb (actors/uffd/fill-hugetlb.ts)
      if (memfd >= 0 && K.mapping(memfd).hugetlb) checkHugetlbDst(op, a, env.b.layout.init[K.vmaSlot(v, VMA_FLAGS)] ?? 0);
      const umode = (a.mode?.includes('dontwake') ? UFFDIO_MODE_DONTWAKE : 0) | (a.mode?.includes('wp') ? UFFDIO_COPY_MODE_WP : 0);
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
