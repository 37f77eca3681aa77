/**
 * The page-table allocation steps of the remap/move loop, shared by remap_pages (RFC v2) and
 * move_pages (merged), whose loops are the same here: with UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES a
 * missing src table is allocated (else -ENOENT), then dst's table if its pmd is none
 * (mm/userfaultfd.c: move_pages, "pte_alloc(dst_mm, dst_pmd)"); a failed allocation is -ENOMEM.
 * The fragment's steps go to `fail` with l.err set, or on to the caller's `pte` step.
 */
import type { Ctx } from '../../src/engine/ctx.js';
import type { Step } from '../../src/engine/proc.js';
import { ENOENT, ENOMEM, pmd_none } from '../../src/kernel/defs.js';
import { kern } from '../../src/kernel/kernel.js';
import { __pte_alloc, pmd_index, pmdp_get } from '../../src/kernel/pgtable.js';
import { UFFDIO_MODE_ALLOW_SRC_HOLES } from './common.js';
import type { MmId } from '../../src/kernel/ids.js';

type L = { mm: MmId; sa: number; da: number; mode: number; err: number };
/** The labels the fragment defines and the caller's `pte` step it goes on to. */
type Own = 'pte_path' | 'src_alloced' | 'dst_alloc' | 'dst_alloced' | 'pte';

/** Steps pte_path → (src_alloced) → dst_alloc → (dst_alloced) → `pte`; errors go to `fail`. */
export function pteAllocSteps<F extends string>(fail: F): Record<Exclude<Own, 'pte'>, Step<L, Own | F>> {
  const allocated = (then: Own) => (k: Ctx<Own | F>, l: L) => {
    if (k.rv < 0) {
      l.err = ENOMEM;
      return fail;
    }
    return then;
  };
  return {
    pte_path: (k, l) => {
      if (pmd_none(pmdp_get(k.w, kern(k), l.mm, pmd_index(l.sa)))) {
        if (!(l.mode & UFFDIO_MODE_ALLOW_SRC_HOLES)) {
          l.err = ENOENT;
          return fail;
        }
        return k.call(__pte_alloc, { mm: l.mm, pmd: pmd_index(l.sa) }, 'src_alloced');
      }
      return 'dst_alloc';
    },
    src_alloced: allocated('dst_alloc'),
    dst_alloc: (k, l) => {
      if (pmd_none(pmdp_get(k.w, kern(k), l.mm, pmd_index(l.da)))) return k.call(__pte_alloc, { mm: l.mm, pmd: pmd_index(l.da) }, 'dst_alloced');
      return 'pte';
    },
    dst_alloced: allocated('pte'),
  };
}
