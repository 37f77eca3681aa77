/**
 * The initial state that buildKernel (build.ts) sets up: the page-cache folios of populated memfd
 * indices, and the pages mapped at the start (anon: a fresh exclusive folio; file: the page-cache
 * folio; pfnmap: a special PTE; hugetlb: a huge pmd) with the PTE tables they need.
 */
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  _PAGE_SPECIAL,
  folio_pfn,
  HPAGE_PMD_ORDER,
  mk_huge_pmd,
  mk_pte,
  pmd_table,
  VM_HUGETLB,
  VM_PFNMAP,
  VM_SHARED,
  VM_WRITE,
} from './defs.js';
import { filemap_add_folio, filemap_get_folio } from './filemap.js';
import { folio_add_new_anon_rmap, folio_add_rmap, folio_alloc, folio_get } from './folio.js';
import { type Kernel, type Mem, VMA_ANON_VMA, type VmaH } from './kernel.js';
import { pmd_index, pmd_populate, pmdp_get, pte_index } from './pgtable.js';

/** The page-cache folio at index, allocated and inserted if missing. */
export function cacheFolio(m: Mem, K: Kernel, map: number, index: number): number {
  const have = filemap_get_folio(m, K, map, index);
  if (have >= 0) return have;
  const h = K.mapping(map);
  const f = folio_alloc(m, K, h.hugetlb ? HPAGE_PMD_ORDER : 0, h.hugetlb);
  if (f < 0) throw new Error(`folio pool too small to populate ${h.name}`);
  filemap_add_folio(m, K, map, index, f);
  return f;
}

/** The PTE table covering vpn, created at build time if needed. */
function tableFor(m: Mem, K: Kernel, mm: number, vpn: number): number {
  const pmd = pmd_index(vpn);
  let v = pmdp_get(m, K, mm, pmd);
  if (v === 0) {
    let t = 0;
    while (t < K.ntables && m.get(K.ptSlot(t, 0)) !== 0) t++;
    if (t >= K.ntables) throw new Error('page-table pool too small');
    pmd_populate(m, K, mm, pmd, t);
    v = pmdp_get(m, K, mm, pmd);
  }
  return pmd_table(v);
}

/** Map page `page` of VMA h at build time (flags: the VMA's vm_flags). */
export function populate(m: Mem, K: Kernel, h: VmaH, page: number, flags: number): void {
  if (page < 0 || page >= h.pages) throw new Error(`VMA ${h.name}: populated page ${page} outside its ${h.pages} pages`);
  const vpn = K.vpn(h.id, page);
  const w = flags & VM_WRITE ? _PAGE_RW | _PAGE_DIRTY : 0;
  if (h.memfd < 0) {
    const f = folio_alloc(m, K, 0);
    if (f < 0) throw new Error('folio pool too small');
    folio_add_new_anon_rmap(m, K, f, h.id, vpn);
    m.set(h.base + VMA_ANON_VMA, h.id + 1);
    m.set(K.pteSlot(tableFor(m, K, h.mm, vpn), pte_index(vpn)), mk_pte(folio_pfn(f), w));
    return;
  }
  const f = cacheFolio(m, K, h.memfd, h.pgoff + page);
  if (flags & VM_PFNMAP) {
    // vmf_insert_pfn (udmabuf_vm_fault): a special PTE, no reference, no mapcount.
    m.set(K.pteSlot(tableFor(m, K, h.mm, vpn), pte_index(vpn)), mk_pte(folio_pfn(f), _PAGE_SPECIAL | (flags & VM_WRITE ? _PAGE_RW : 0)));
    return;
  }
  folio_get(m, K, f);
  folio_add_rmap(m, K, f);
  const pw = flags & VM_SHARED ? w : 0;
  if (flags & VM_HUGETLB) m.set(K.pmdSlot(h.mm, pmd_index(vpn)), mk_huge_pmd(folio_pfn(f), pw));
  else m.set(K.pteSlot(tableFor(m, K, h.mm, vpn), pte_index(vpn)), mk_pte(folio_pfn(f), pw));
}
