/**
 * The RFC's update_mapping mmu notifier (RFC v1 1/3 and 2/3, Kasireddy, Jul 2023), as posted and
 * in the variants the thread discussed:
 *
 * - as posted (`rfc_update_mapping`): hugetlb_fault calls mmu_notifier_update_mapping(mm, address,
 *   pte_pfn(*ptep)) after hugetlb_no_page returned, with no lock held: the entry may have changed
 *   and its page been freed (Alistair Popple); update_udmabuf then takes ubuf->mn_lock and does
 *   get_page(pfn_to_page(pfn)) on whatever the pfn now is.
 * - under the PTL (`rfc_update_under_ptl`, the change_pte-style call Kasireddy proposed): the entry
 *   is stable, but the callback's mutex_lock(&ubuf->mn_lock) sleeps under a spinlock.
 * - under the PTL without the mutex (+ `rfc_no_mn_lock`).
 * In all of them the notifier is per mm (Peter Xu): a fault through another VMA or process that maps
 * the same memfd never reaches it.
 *
 * The guest's store is modelled as a user store whose fault path carries the hook (mm/hugetlb.c:
 * hugetlb_fault; the shmem hook in shmem_fault ran even before the PTE existed). The RFC kept page
 * references (get_page/put_page); with today's pinned udmabuf the replacement pins the new folio
 * and unpins the old one.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import {
  EFAULT,
  FAULT_FLAG_ALLOW_RETRY,
  FAULT_FLAG_WRITE,
  pfn_folio,
  pmd_is_table,
  pmd_pfn,
  pmd_table,
  pmd_trans_huge,
  pte_pfn,
  pte_present,
  pte_write,
  VM_FAULT_ERROR,
  VM_FAULT_RETRY,
} from '../../src/kernel/defs.js';
import { folio_is_free, folio_pin, folio_unpin, folio_write_data } from '../../src/kernel/folio.js';
import { kern, VMA_ATTACHED } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index } from '../../src/kernel/pgtable.js';
import { UB_EXPORTED, UB_FOLIO, UB_MN_MM, UB_MN_VMA, UB_STATE, ub_folio, udmabufs } from '../../src/kernel/udmabuf.js';
import { handle_mm_fault } from '../mm/fault.js';
import { zap_page_range_single } from '../mm/zap.js';
import type { MmId, VmaId } from '../../src/kernel/ids.js';

/** The pfn an entry maps (huge pmd or PTE), read without the PTL; 0 when none. */
function peek(k: import('../../src/engine/ctx.js').Ctx, mm: number, vpn: number): number {
  const K = kern(k);
  const v = pmdp_get(k.w, K, mm, pmd_index(vpn));
  if (pmd_trans_huge(v)) return pmd_pfn(v);
  if (!pmd_is_table(v)) return 0;
  const pte = k.w.get(K.pteSlot(pmd_table(v), pte_index(vpn)));
  return pte_present(pte) ? pte_pfn(pte) : 0;
}

/** A guest store through a memfd mapping whose fault path carries the RFC hook: args [vma, page, value]. */
export const rfc_guest_write = kproc(
  'rfc_guest_write',
  'mm/hugetlb.c: hugetlb_fault with RFC v1 1/3 (mmu_notifier_update_mapping after hugetlb_no_page)',
  (a: { vma: VmaId; page: number; value: number }) => ({ vma: a.vma, page: a.page, value: a.value, mm: 0 as MmId, vpn: 0, pfn: 0, lock: -1 }),
  {
    walk: (k, l) => {
      const K = kern(k);
      l.mm = K.vma(l.vma).mm;
      l.vpn = K.vpn(l.vma, l.page);
      const v = pmdp_get(k.w, K, l.mm, pmd_index(l.vpn));
      const e = pmd_trans_huge(v) ? v : pmd_is_table(v) ? k.w.get(K.pteSlot(pmd_table(v), pte_index(l.vpn))) : 0;
      if (!(pmd_trans_huge(v) || pte_present(e)) || !pte_write(e)) return 'fault';
      const f = pfn_folio(pmd_trans_huge(v) ? pmd_pfn(v) : pte_pfn(e));
      folio_write_data(k.w, K, f, l.value);
      k.note(() => `store ${l.value} to vpn ${l.vpn}: folio ${f}`);
      return k.ret(0);
    },
    fault: (k, l) => (k.down_read(kern(k).mm(l.mm).mmap_lock) ? 'handle' : BLOCKED),
    handle: (k, l) => k.call(handle_mm_fault, { mm: l.mm, vma: l.vma, vpn: l.vpn, flags: FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_WRITE }, 'faulted'),
    faulted: (k) => {
      const r = k.rv;
      if (r & VM_FAULT_RETRY) return 'walk';
      if (r & VM_FAULT_ERROR) return 'efault';
      if (!k.sw('rfc_update_mapping')) return 'unlock';
      return k.sw('rfc_update_under_ptl') ? 'ptl' : 'peek';
    },
    peek: (k, l) => {
      // if (!ret) mmu_notifier_update_mapping(vma->vm_mm, address, pte_pfn(*ptep)): no lock held
      l.pfn = peek(k, l.mm, l.vpn);
      return k.call(mmu_notifier_update_mapping, { mm: l.mm, vpn: l.vpn, pfn: l.pfn }, 'unlock');
    },
    ptl: (k, l) => {
      // the variant under the (huge) PTL: huge_pte_lock / pte_offset_map_lock (a table's split PTL)
      const K = kern(k);
      const v = pmdp_get(k.w, K, l.mm, pmd_index(l.vpn));
      l.lock = pmd_is_table(v) ? K.ptlOf(pmd_table(v)) : K.mm(l.mm).page_table_lock;
      return k.spin_lock(l.lock) ? 'ptl_peek' : BLOCKED;
    },
    ptl_peek: (k, l) => {
      l.pfn = peek(k, l.mm, l.vpn);
      return k.call(mmu_notifier_update_mapping, { mm: l.mm, vpn: l.vpn, pfn: l.pfn }, 'ptl_unlock');
    },
    ptl_unlock: (k, l) => (k.spin_unlock(l.lock) ? 'unlock' : ENDED),
    unlock: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? 'walk' : ENDED),
    efault: (k, l) => (k.up_read(kern(k).mm(l.mm).mmap_lock) ? k.ret(EFAULT) : ENDED),
  },
);

/** __mmu_notifier_update_mapping: args [mm, vpn, pfn]; calls ops->update_mapping of every subscription on mm. */
export const mmu_notifier_update_mapping = kproc(
  'mmu_notifier_update_mapping',
  'mm/mmu_notifier.c: __mmu_notifier_update_mapping (RFC v1 1/3)',
  (a: { mm: MmId; vpn: number; pfn: number }) => ({ mm: a.mm, vpn: a.vpn, pfn: a.pfn, i: 0 }),
  {
    next: (k, l) => {
      const U = udmabufs(k);
      while (l.i < U.list.length) {
        const ub = l.i++;
        if (k.w.get(U.slot(ub, UB_MN_MM)) === l.mm + 1 && k.w.get(U.slot(ub, UB_STATE)) === UB_EXPORTED)
          return k.call(update_udmabuf, { ub, mm: l.mm, vpn: l.vpn, pfn: l.pfn }, 'next');
      }
      return k.ret(0);
    },
  },
);

/** update_udmabuf (ops->update_mapping): args [ub, mm, vpn, pfn]. */
export const update_udmabuf = kproc(
  'update_udmabuf',
  'drivers/dma-buf/udmabuf.c: update_udmabuf (RFC v1 2/3) → invalidate_mmap_vmas (zap_vma_ptes)',
  (a: { ub: number; mm: MmId; vpn: number; pfn: number }) => ({ ub: a.ub, mm: a.mm, vpn: a.vpn, pfn: a.pfn, pgoff: -1, z: 0 }),
  {
    range: (k, l) => {
      // find_udmabuf_range: only the guest-RAM VMA found at create time; !range || !pfn_valid(pfn) → return
      const K = kern(k);
      const U = udmabufs(k);
      const h = U.ub(l.ub);
      const vma = k.w.get(U.slot(l.ub, UB_MN_VMA)) - 1;
      const v = vma >= 0 ? K.vma(vma) : null;
      if (!v || l.vpn < v.start || l.vpn >= v.end || l.pfn === 0) return k.ret(0);
      l.pgoff = K.linear_page_index(vma, l.vpn) - h.pgoff;
      if (l.pgoff < 0 || l.pgoff >= h.pages) return k.ret(0);
      return k.sw('rfc_no_mn_lock') ? 'replace' : 'lock';
    },
    lock: (k, l) => (k.mutex_lock(udmabufs(k).ub(l.ub).mn_lock) ? 'replace' : BLOCKED),
    replace: (k, l) => {
      // old_page = ubuf->pages[pgoff]; new_page = pfn_to_page(pfn); pages[pgoff] = new; get_page(new); put_page(old)
      const K = kern(k);
      const U = udmabufs(k);
      const nf = pfn_folio(l.pfn);
      const old = ub_folio(k.w, U, l.ub, l.pgoff);
      if (folio_is_free(k.w, K, nf))
        return k.violated(`use-after-free: update_udmabuf takes a reference on freed folio ${nf} (pfn read from the page table without the PTL)`);
      if (nf === old) return k.sw('rfc_no_mn_lock') ? 'zap' : 'unlock';
      folio_pin(k.w, K, nf);
      k.w.set(U.slot(l.ub, UB_FOLIO + l.pgoff), nf + 1);
      if (old >= 0) folio_unpin(k, K, old);
      k.note(() => `update_udmabuf ${U.ub(l.ub).name} page ${l.pgoff}: folio ${old} → ${nf}`);
      return k.sw('rfc_no_mn_lock') ? 'zap' : 'unlock';
    },
    unlock: (k, l) => (k.mutex_unlock(udmabufs(k).ub(l.ub).mn_lock) ? 'zap' : ENDED),
    zap: (k, l) => {
      // invalidate_mmap_vmas: zap_vma_ptes of the page in every VMA that mmaps the udmabuf
      const K = kern(k);
      const vmas = udmabufs(k).ub(l.ub).vmas;
      while (l.z < vmas.length) {
        const v = vmas[l.z++] as VmaId;
        if (!k.w.get(K.vmaSlot(v, VMA_ATTACHED))) continue;
        const vpn = K.vma(v).start + l.pgoff;
        return k.call(zap_page_range_single, { mm: K.vma(v).mm, vma: v, start: vpn, end: vpn + 1, even_cows: 0 }, 'zap');
      }
      return k.ret(0);
    },
  },
);
