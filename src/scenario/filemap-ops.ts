/**
 * Fault-around and the invalidate_lock of filesystem files (actors/mm/filemap.ts): the
 * `read_fault_around` operation and the planted-bug switches of those paths.
 */
import * as Schema from 'effect/Schema';
import { cpu_access } from '../../actors/mm/access.js';
import { BUG_SKIP_MAPPING_CHECK } from '../../actors/mm/filemap.js';
import { NO_INVALIDATE_LOCK } from '../../actors/mm/punch-hole.js';
import { MAX_PC } from '../kernel/defs.js';
import { type Kernel, KERNEL } from '../kernel/kernel.js';
import { bind } from '../engine/proc.js';
import { registerOp, registerSwitch } from './ops.js';
import type { VmaId } from '../kernel/ids.js';

const Name = Schema.String.check(Schema.isMinLength(1));
const Page = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_PC - 1 }));

registerOp({
  name: 'read_fault_around',
  doc:
    'a user-space load from a page of a file VMA with fault-around (fault_around_bytes > PAGE_SIZE): on a miss do_read_fault first runs ' +
    'do_fault_around → filemap_map_pages (maps the cached, uptodate, unlocked folios of the PTE table under the PTL), then ->fault if the page is still unmapped',
  fields: { vma: Name, page: Page },
  refs: { vma: 'vma' },
  compile: (a: { vma: string; page: number }, env) => {
    const v = env.names.vma.get(a.vma) as VmaId;
    const K = KERNEL.find(env.b) as Kernel;
    if (K.vma(v).memfd < 0 || K.mapping(K.vma(v).memfd).hugetlb) throw new Error(`read_fault_around: VMA ${a.vma} does not map a shmem or fs file`);
    return { op: 'call', call: bind(cpu_access, { mm: K.vma(v).mm, vma: v, page: a.page, write: 0, value: 0, around: 1 }) };
  },
});

registerSwitch(BUG_SKIP_MAPPING_CHECK, 'planted bug: next_uptodate_folio maps a folio without rechecking folio->mapping under the folio lock');
registerSwitch(NO_INVALIDATE_LOCK, 'planted bug: the fs hole punch does not take filemap_invalidate_lock (a fault can read the range back before its blocks are freed)');
