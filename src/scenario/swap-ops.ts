/**
 * Swap operations of the scenario vocabulary (actors/mm/vmscan.ts; swap-in runs in the fault path,
 * actors/mm/swap-in.ts) and the switches of the swap paths and of UFFDIO_MOVE's swap branch.
 */
import * as Schema from 'effect/Schema';
import { shrink_folio } from '../../actors/mm/vmscan.js';
import { MAX_PC } from '../kernel/defs.js';
import { KERNEL } from '../kernel/kernel.js';
import type { VmaId } from '../kernel/ids.js';
import { SWAP } from '../kernel/swap.js';
import { bind } from '../engine/proc.js';
import { registerOp, registerSwitch } from './ops.js';

const Name = Schema.String.check(Schema.isMinLength(1));
const Page = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_PC - 1 }));

registerOp({
  name: 'reclaim',
  doc:
    'reclaim (kswapd / direct reclaim: shrink_folio_list) of the anonymous folio mapped at a page of a VMA: add_to_swap, try_to_unmap to a swap entry, ' +
    'pageout, __remove_mapping (fails while the folio is referenced elsewhere); needs `world.swap`',
  fields: { vma: Name, page: Page },
  refs: { vma: 'vma' },
  compile: (a: { vma: string; page: number }, env) => {
    const K = KERNEL.find(env.b);
    if (!K || !SWAP.find(env.b)) throw new Error('reclaim needs a `world` section with a `swap` device');
    const v = env.names.vma.get(a.vma) as VmaId;
    if (K.vma(v).memfd >= 0) throw new Error(`reclaim: VMA ${a.vma} is not anonymous (only anonymous folios are swapped here)`);
    return { op: 'call', call: bind(shrink_folio, { mm: K.vma(v).mm, vma: v, page: a.page }) };
  },
});

registerSwitch(
  'swap_fix_race_skipping_swapcache',
  'do_swap_page pins the entry with swapcache_prepare before skipping the swap cache on a SWP_SYNCHRONOUS_IO device ("mm/swap: fix race when skipping swapcache", 13ddaf26be32, v6.8-rc6); off: v6.7, no pin',
);
registerSwitch(
  'uffd_move_swapcache',
  'UFFDIO_MOVE of a swap PTE looks up the swap cache and moves the cached folio\'s anon rmap and index too ("mm: fix kernel BUG when userfaultfd_move encounters swapcache", c50f8e6053b0, v6.14); off: v6.8..v6.13, the swap PTE alone is moved',
);
registerSwitch(
  'uffd_move_swapcache_race',
  'move_swap_pte rechecks under the locks that the folio is still the swap-cache folio of the entry, and that no folio entered the swap cache when none was found ("mm: userfaultfd: fix race of userfaultfd_move and swap cache", 0ea148a79919, v6.16); off: as c50f8e6053b0',
);
