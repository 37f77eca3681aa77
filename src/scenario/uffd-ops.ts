/**
 * userfaultfd move and khugepaged operations of the scenario vocabulary (actors/uffd,
 * actors/khugepaged), and the variant switches those models read. Pages are VMA page numbers.
 */
import * as Schema from 'effect/Schema';
import { khugepaged_scan_anon } from '../../actors/khugepaged/anon.js';
import { ensureThp } from '../../actors/khugepaged/common.js';
import { khugepaged_scan_file } from '../../actors/khugepaged/file.js';
import { pin_user_pages_fast } from '../../actors/mm/gup.js';
import { UFFDIO_MODE_ALLOW_SRC_HOLES, UFFDIO_MODE_DONTWAKE } from '../../actors/uffd/common.js';
import { uffdio_move } from '../../actors/uffd/move.js';
import { pinnedFolioStaysPut } from '../../actors/uffd/pin.js';
import { uffdio_remap } from '../../actors/uffd/remap-rfc.js';
import { HPAGE_PMD_NR, MAX_PC } from '../kernel/defs.js';
import { type Kernel, KERNEL } from '../kernel/kernel.js';
import { bind } from '../engine/proc.js';
import { type CompileEnv, registerOp, registerSwitch } from './ops.js';
import type { VmaId } from '../kernel/ids.js';
import './uffd-fill-ops.js';
import './uffd-wp-ops.js';

const Name = Schema.String.check(Schema.isMinLength(1));
const Page = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_PC - 1 }));
const Pages = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: MAX_PC }));
const Mode = Schema.Array(Schema.Literals(['allow_src_holes', 'dontwake']));

const kernelOf = (env: CompileEnv): Kernel => {
  const K = KERNEL.find(env.b);
  if (!K) throw new Error('userfaultfd and khugepaged operations need a `world` section');
  return K;
};
const vmaId = (env: CompileEnv, name: string): VmaId => env.names.vma.get(name) as VmaId;

interface MoveArgs {
  readonly dst: string;
  readonly src: string;
  readonly dst_page?: number;
  readonly src_page?: number;
  readonly pages?: number;
  readonly mode?: readonly ('allow_src_holes' | 'dontwake')[];
}

for (const [op, proc, what] of [
  ['uffdio_remap', uffdio_remap, 'UFFDIO_REMAP as posted (RFC v2, Sept 2023): remap_pages under mmap_read_lock, remap_pages_pte with its four BUG_ONs'],
  ['uffdio_move', uffdio_move, 'UFFDIO_MOVE (v6.8 as merged; today\'s code with switches uffd_move_v6_9 and uffd_move_recheck_dst_pmd): move_pages_pte / move_pages_huge_pmd with their rechecks'],
] as const) {
  registerOp({
    name: op,
    doc: `${what}; moves \`pages\` pages from src to dst (both VMAs of the actor's process)`,
    fields: { dst: Name, src: Name, dst_page: Schema.optional(Page), src_page: Schema.optional(Page), pages: Schema.optional(Pages), mode: Schema.optional(Mode) },
    refs: { dst: 'vma', src: 'vma' },
    compile: (a: MoveArgs, env) => {
      const K = kernelOf(env);
      ensureThp(env.b);
      const d = vmaId(env, a.dst);
      const s = vmaId(env, a.src);
      if (K.vma(d).mm !== K.vma(s).mm) throw new Error(`${op}: src and dst must be VMAs of one process`);
      const mode = (a.mode ?? []).reduce((m, x) => m | (x === 'allow_src_holes' ? UFFDIO_MODE_ALLOW_SRC_HOLES : UFFDIO_MODE_DONTWAKE), 0);
      return { op: 'call', call: bind(proc, { mm: K.vma(d).mm, dst: K.vpn(d, a.dst_page ?? 0), src: K.vpn(s, a.src_page ?? 0), len: a.pages ?? 1, mode }) };
    },
  });
}

registerOp({
  name: 'khugepaged_anon',
  doc: 'one khugepaged pass over the pmd holding `page` of an anonymous VMA: hpage_collapse_scan_pmd → collapse_huge_page',
  fields: { vma: Name, page: Schema.optional(Page) },
  refs: { vma: 'vma' },
  compile: (a: { vma: string; page?: number }, env) => {
    const K = kernelOf(env);
    ensureThp(env.b);
    const v = vmaId(env, a.vma);
    const vpn = K.vpn(v, a.page ?? 0);
    return { op: 'call', call: bind(khugepaged_scan_anon, { mm: K.vma(v).mm, vma: v, haddr: vpn - (vpn % HPAGE_PMD_NR) }) };
  },
});

registerOp({
  name: 'khugepaged_file',
  doc:
    'khugepaged on the shmem file a VMA maps, over the pmd holding `page`: collapse_file (→ retract_page_tables under i_mmap_rwsem, no mmap_lock), ' +
    'then collapse_pte_mapped_thp under mmap_read_lock (with `install_pmd`, MADV_COLLAPSE-style, it also maps the huge folio by a pmd)',
  fields: { vma: Name, page: Schema.optional(Page), install_pmd: Schema.optional(Schema.Boolean) },
  refs: { vma: 'vma' },
  compile: (a: { vma: string; page?: number; install_pmd?: boolean }, env) => {
    const K = kernelOf(env);
    ensureThp(env.b);
    const v = vmaId(env, a.vma);
    const h = K.vma(v);
    if (h.memfd < 0 || K.mapping(h.memfd).hugetlb) throw new Error(`khugepaged_file: VMA ${a.vma} does not map a shmem memfd`);
    const vpn = K.vpn(v, a.page ?? 0);
    const haddr = vpn - (vpn % HPAGE_PMD_NR);
    return { op: 'call', call: bind(khugepaged_scan_file, { mm: h.mm, vma: v, haddr, install: a.install_pmd ? 1 : 0 }) };
  },
});

registerOp({
  name: 'pin_fast_checked',
  doc:
    'pin_user_pages_fast(FOLL_PIN | FOLL_LONGTERM) of one page, kept; from then on the pinned folio must stay mapped at that address only ' +
    '(the pin holder’s view; an `invariant` verdict otherwise)',
  fields: { vma: Name, page: Page },
  refs: { vma: 'vma' },
  compile: (a: { vma: string; page: number }, env) => {
    const K = kernelOf(env);
    const v = vmaId(env, a.vma);
    const mm = K.vma(v).mm;
    env.b.invariants.push(pinnedFolioStaysPut(K, env.actor.index, env.actor.name, mm, K.vpn(v, a.page)));
    return { op: 'call', call: bind(pin_user_pages_fast, { mm, vma: v, page: a.page, nr_pages: 1, write: 0 }) };
  },
});

registerSwitch('remap_pmd_recheck', "UFFDIO_REMAP RFC v2 with Jann Horn's fix: no BUG_ONs; recheck pmd_same under each PTL, -EAGAIN when a table vanished");
registerSwitch('uffd_file_vmas', 'hypothetical: UFFDIO_REMAP / UFFDIO_MOVE accept file-backed (shmem) VMAs (the RFC’s "tmpfs should be added")');
registerSwitch('khugepaged_anon_mmap_read', 'hypothetical khugepaged rework: collapse anonymous memory under mmap_lock read (pmd lock + PTL around pmdp_collapse_flush)');
registerSwitch(
  'uffd_move_v6_9',
  'UFFDIO_MOVE as changed in v6.9: per-VMA locks ("userfaultfd: use per-vma locks in userfaultfd operations") and zero-page moves ("userfaultfd: handle zeropage moves by UFFDIO_MOVE"); off: v6.8, mmap_read_lock for the whole move, a zero-page src is -EBUSY',
);
registerSwitch(
  'uffd_move_recheck_dst_pmd',
  'UFFDIO_MOVE keeps dst_pmdval and rechecks pmd_same under the PTLs ("mm: userfaultfd: recheck dst_pmd entry in move_pages_pte()", v6.14); off: v6.8, pte_same only',
);
registerSwitch('move_no_pin_recheck', 'UFFDIO_MOVE without the folio_maybe_dma_pinned recheck after ptep_clear_flush / pmdp_huge_clear_flush');
