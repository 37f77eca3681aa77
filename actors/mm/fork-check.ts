/**
 * A user-space check of the memory a forked child got (no kernel function: what a test program
 * does after fork). fork gives the child the parent's memory as of one instant: with one parent
 * thread storing to several pages in program order, the child may see a prefix of those stores,
 * never a later store without an earlier one. Before per-VMA locks mmap_write_lock excluded the
 * parent's faults during dup_mmap; "fork: lock VMAs of the parent process when forking"
 * (fb49c455323f) restores that with vma_start_write ("We must not take any concurrent page faults
 * on the source vma's as they are being processed, as we expect both the vma and the pte's behind
 * it to be stable"). One step, reading the child's PTEs without faulting (nothing else runs in
 * the child).
 */
import { is_zero_pfn, pfn_folio, pmd_is_table, pmd_table, pte_pfn, pte_present } from '../../src/kernel/defs.js';
import { folio_data } from '../../src/kernel/folio.js';
import { kern } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { pmd_index, pmdp_get, pte_index } from '../../src/kernel/pgtable.js';
import type { MmId, VmaId } from '../../src/kernel/ids.js';

/** At most this many stores in one check (locals are a fixed record of numbers). */
export const SNAPSHOT_MAX = 4;

/** fork_snapshot_check: args the child's mm and VMA and up to 4 stores (page, value) in program order; 0. */
export const fork_snapshot_check = kproc(
  'fork_snapshot_check',
  'user space: the child reads the pages the parent stored to (fork snapshot check)',
  (a: { mm: MmId; vma: VmaId; n: number; p0: number; v0: number; p1: number; v1: number; p2: number; v2: number; p3: number; v3: number }) => ({ ...a }),
  {
    check: (k, l) => {
      const K = kern(k);
      const stores = [
        [l.p0, l.v0],
        [l.p1, l.v1],
        [l.p2, l.v2],
        [l.p3, l.v3],
      ].slice(0, l.n) as [number, number][];
      // the value the child reads at a page, or NaN when it is not mapped
      const read = (page: number): number => {
        const vpn = K.vpn(l.vma, page);
        const v = pmdp_get(k.w, K, l.mm, pmd_index(vpn));
        if (!pmd_is_table(v)) return Number.NaN;
        const pte = k.w.get(K.pteSlot(pmd_table(v), pte_index(vpn)));
        if (!pte_present(pte) || is_zero_pfn(pte_pfn(pte))) return Number.NaN;
        return folio_data(k.w, K, pfn_folio(pte_pfn(pte)));
      };
      const seen = stores.map(([p, v]) => read(p) === v);
      for (let j = 1; j < stores.length; j++) {
        if (!seen[j]) continue;
        const i = seen.findIndex((s, x) => x < j && !s);
        if (i >= 0) {
          const [pi, vi] = stores[i] as [number, number];
          const [pj, vj] = stores[j] as [number, number];
          return k.violated(`fork snapshot: the child sees the parent's store of ${vj} to page ${pj} but not the earlier store of ${vi} to page ${pi} (reads ${read(pi)})`);
        }
      }
      k.note(() => `fork snapshot: the child sees ${seen.filter((s) => s).length} of ${stores.length} stores, a prefix`);
      return k.ret(0);
    },
  },
);
