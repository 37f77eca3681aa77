/**
 * The VMM's guest-RAM discard (QEMU system/physmem.c: ram_block_discard_range → fallocate(memfd,
 * FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE), used by virtio-balloon, virtio-mem and postcopy).
 * Switch `ram_discard_disabled`: the policy QEMU applies for VFIO (ram_block_discard_disable(true)
 * while the device holds long-term pins); discards then fail with -EBUSY and the memfd is untouched.
 */
import { EBUSY } from '../../src/kernel/defs.js';
import { kproc } from '../../src/kernel/kproc.js';
import { punch_hole } from '../mm/punch-hole.js';
import type { MemfdId } from '../../src/kernel/ids.js';

/** vmm_discard: args [memfd, page, pages]; 0 or -errno. */
export const vmm_discard = kproc(
  'vmm_discard',
  'qemu system/physmem.c: ram_block_discard_range (ram_block_discard_is_disabled) → fallocate(FALLOC_FL_PUNCH_HOLE)',
  (a: { memfd: MemfdId; page: number; pages: number }) => ({ memfd: a.memfd, page: a.page, pages: a.pages }),
  {
    discard: (k, l) => {
      if (k.sw('ram_discard_disabled')) {
        k.note(() => 'ram_block_discard_range: RAM discard disabled while a udmabuf pins guest RAM (-EBUSY)');
        return k.ret(EBUSY);
      }
      return k.call(punch_hole, { map: l.memfd, start: l.page, len: l.pages }, 'done');
    },
    done: (k) => k.ret(k.rv),
  },
);
