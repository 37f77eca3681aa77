/**
 * PTE markers and the uffd-wp bit (include/linux/swapops.h, include/linux/userfaultfd_k.h,
 * arch/x86/include/asm/pgtable.h). A marker is a non-present PTE of type PTE_MARKER whose payload
 * holds the marker bits; the uffd-wp bit of a present PTE (or of a swap/migration entry) is
 * _PAGE_UFFD_WP. On x86 pte_mkuffd_wp also write-protects ("mm/uffd: always wr-protect pte in
 * pte|pmd_mkuffd_wp()", f1eb1bacfba9, v6.3).
 */
import { _PAGE_RW, _PAGE_UFFD_WP, PTE_MARKER, pte_none, pte_present } from './defs.js';

/** pte_marker bits (include/linux/swapops.h, v6.6+: PTE_MARKER_POISONED replaced SWAPIN_ERROR). */
export const PTE_MARKER_UFFD_WP = 1 << 0;
export const PTE_MARKER_POISONED = 1 << 1;

/** make_pte_marker(marker). */
export const make_pte_marker = (marker: number): number => (marker << 8) | PTE_MARKER;
/** is_pte_marker: a marker entry (uffd-wp or poison). */
export const is_pte_marker = (p: number): boolean => (p & 7) === PTE_MARKER;
/** pte_marker_get: the marker bits of a marker entry. */
export const pte_marker_get = (p: number): number => p >>> 8;
/** pte_marker_uffd_wp: a uffd-wp marker. */
export const pte_marker_uffd_wp = (p: number): boolean => is_pte_marker(p) && (pte_marker_get(p) & PTE_MARKER_UFFD_WP) !== 0;
/** pte_none_mostly: none, or a marker (treated as none by faults and the fill ioctls, v6.x). */
export const pte_none_mostly = (p: number): boolean => pte_none(p) || is_pte_marker(p);

/** The uffd-wp marker (the one value a uffd-wp marker takes here). */
export const UFFD_WP_MARKER = make_pte_marker(PTE_MARKER_UFFD_WP);

/** pte_uffd_wp: a present PTE with the uffd-wp bit. */
export const pte_uffd_wp = (p: number): boolean => pte_present(p) && (p & _PAGE_UFFD_WP) !== 0;
/** pte_mkuffd_wp (x86, v6.3+): set the uffd-wp bit and write-protect. */
export const pte_mkuffd_wp = (p: number): number => (p | _PAGE_UFFD_WP) & ~_PAGE_RW;
/** pte_clear_uffd_wp / pte_swp_clear_uffd_wp. */
export const pte_clear_uffd_wp = (p: number): number => p & ~_PAGE_UFFD_WP;
/** pte_swp_mkuffd_wp: the uffd-wp bit of a swap or migration entry. */
export const pte_swp_mkuffd_wp = (p: number): number => p | _PAGE_UFFD_WP;
