/**
 * The VMM's guest-RAM discard (QEMU system/physmem.c: ram_block_discard_range → fallocate(memfd,
 * FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE), used by virtio-balloon, virtio-mem and postcopy).
 * Switch `ram_discard_disabled`: the policy QEMU applies for VFIO (ram_block_discard_disable(true)
 * while the device holds long-term pins). QEMU's balloon then skips the discard silently, with no
 * error: hw/virtio/virtio-balloon.c virtio_balloon_handle_output calls balloon_inflate_page only
 * if !virtio_balloon_inhibited() (ram_block_discard_is_disabled() || incoming postcopy || background
 * snapshot), and completes the element either way; balloon_inflate_page ignores the errors of
 * ram_block_discard_range, which itself does not look at the disable count.
 */
import { kproc } from '../../src/kernel/kproc.js';
import { punch_hole } from '../mm/punch-hole.js';
import type { MemfdId } from '../../src/kernel/ids.js';

/** vmm_discard: args [memfd, page, pages]; 0 or -errno. */
export const vmm_discard = kproc(
  'vmm_discard',
  'qemu hw/virtio/virtio-balloon.c: virtio_balloon_handle_output (!virtio_balloon_inhibited) → balloon_inflate_page → system/physmem.c: ram_block_discard_range → fallocate(FALLOC_FL_PUNCH_HOLE)',
  (a: { memfd: MemfdId; page: number; pages: number }) => ({ memfd: a.memfd, page: a.page, pages: a.pages }),
  {
    discard: (k, l) => {
      if (k.sw('ram_discard_disabled')) {
        k.note(() => 'virtio_balloon_handle_output: virtio_balloon_inhibited (RAM discard disabled while a udmabuf pins guest RAM), no discard');
        return k.ret(0);
      }
      return k.call(punch_hole, { map: l.memfd, start: l.page, len: l.pages }, 'done');
    },
    done: (k) => k.ret(k.rv),
  },
);
