/**
 * userfaultfd write-protect operations of the scenario vocabulary (actors/uffd/writeprotect.ts):
 * UFFDIO_WRITEPROTECT over pages of a VMA, mprotect (actors/mm/mprotect.ts, through the same
 * change_protection), and the kernel-history switches of the uffd-wp paths (change_pmd_prepare's
 * pgtable allocation failure, fork's copy of a uffd-wp PTE marker, mremap's uffd-wp clearing).
 */
import * as Schema from 'effect/Schema';
import { mprotect } from '../../actors/mm/mprotect.js';
import { mwriteprotect_range, UFFDIO_WRITEPROTECT_MODE_DONTWAKE, UFFDIO_WRITEPROTECT_MODE_WP } from '../../actors/uffd/writeprotect.js';
import { MAX_PC } from '../kernel/defs.js';
import { KERNEL } from '../kernel/kernel.js';
import type { VmaId } from '../kernel/ids.js';
import { type CompileEnv, registerOp, registerSwitch } from './ops.js';
import { bind } from '../engine/proc.js';

const Name = Schema.String.check(Schema.isMinLength(1));
const Page = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_PC - 1 }));
const Pages = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: MAX_PC }));
const Mode = Schema.Array(Schema.Literals(['wp', 'dontwake']));

interface WpArgs {
  readonly vma: string;
  readonly page?: number;
  readonly pages?: number;
  readonly mode?: readonly ('wp' | 'dontwake')[];
}

registerOp({
  name: 'uffdio_writeprotect',
  doc:
    'UFFDIO_WRITEPROTECT: with mode wp, write-protect pages (uffd-wp bit on present PTEs, a uffd-wp marker on none PTEs of a file VMA); ' +
    'without, resolve (clear the bit and the markers, make exclusive anon / dirty shared pages writable) and wake the faulting threads unless dontwake; ' +
    'mwriteprotect_range → change_protection under mmap_read_lock, the PTL and an mmu-notifier bracket',
  fields: { vma: Name, page: Schema.optional(Page), pages: Schema.optional(Pages), mode: Schema.optional(Mode) },
  refs: { vma: 'vma' },
  compile: (a: WpArgs, env: CompileEnv) => {
    const K = KERNEL.find(env.b);
    if (!K) throw new Error('uffdio_writeprotect needs a `world` section');
    const v = env.names.vma.get(a.vma) as VmaId;
    const memfd = K.vma(v).memfd;
    // change_protection: is_vm_hugetlb_page → hugetlb_change_protection, which the model does not have
    if (memfd >= 0 && K.mapping(memfd).hugetlb) throw new Error(`uffdio_writeprotect: VMA ${a.vma} maps a hugetlb memfd; hugetlb_change_protection is not modelled`);
    const mode = (a.mode?.includes('wp') ? UFFDIO_WRITEPROTECT_MODE_WP : 0) | (a.mode?.includes('dontwake') ? UFFDIO_WRITEPROTECT_MODE_DONTWAKE : 0);
    return { op: 'call', call: bind(mwriteprotect_range, { mm: K.vma(v).mm, vma: v, start: K.vpn(v, a.page ?? 0), pages: a.pages ?? 1, mode }) };
  },
});

registerOp({
  name: 'mprotect',
  doc: 'mprotect a whole VMA to PROT_READ (write: false) or PROT_READ|PROT_WRITE (write: true): mprotect_fixup → change_protection under mmap_write_lock',
  fields: { vma: Name, write: Schema.Boolean },
  refs: { vma: 'vma' },
  compile: (a: { vma: string; write: boolean }, env: CompileEnv) => {
    const K = KERNEL.find(env.b);
    if (!K) throw new Error('mprotect needs a `world` section');
    const v = env.names.vma.get(a.vma) as VmaId;
    const memfd = K.vma(v).memfd;
    if (memfd >= 0 && K.mapping(memfd).hugetlb) throw new Error(`mprotect: VMA ${a.vma} maps a hugetlb memfd; hugetlb_change_protection is not modelled`);
    return { op: 'call', call: bind(mprotect, { mm: K.vma(v).mm, vma: v, write: a.write ? 1 : 0 }) };
  },
});

registerSwitch(
  'uffd_clear_wp_on_mremap',
  'move_ptes / move_normal_pmd as fixed by "mm: clear uffd-wp PTE/PMD state on mremap()" (0cef0bb836e3, v6.13): moving a VMA registered with userfaultfd ' +
    'without UFFD_FEATURE_EVENT_REMAP clears the uffd-wp bit of moved PTEs, drops uffd-wp markers, and refuses move_normal_pmd (the PTEs go one by one); ' +
    'off: the PTEs and the whole table move as they are',
);
registerSwitch(
  'uffd_wp_pgtable_alloc_enomem',
  'change_pmd_prepare as fixed by "mm/uffd: detect pgtable allocation failures" (d1751118c886, v6.3): a failed pte_alloc while write-protecting a file VMA ends ' +
    'UFFDIO_WRITEPROTECT with -ENOMEM; off: v6.2, WARN_ON_ONCE(pte_alloc(...)) and the error dropped (the range stays unprotected, the ioctl returns 0)',
);
registerSwitch(
  'uffd_fix_pte_marker_fork',
  'copy_nonpresent_pte as fixed by "mm/uffd: fix pte marker when fork() without fork event" (49d6d7fb6313, v6.2): a uffd-wp PTE marker is copied to the ' +
    'child only if the child VMA is VM_UFFD_WP; off: WARN_ON_ONCE(!userfaultfd_wp(dst_vma)) and the marker copied',
);
