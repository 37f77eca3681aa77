/**
 * memfd_create, ftruncate and F_ADD_SEALS (mm/memfd.c, mm/shmem.c shmem_setattr,
 * fs/hugetlbfs/inode.c hugetlb_vmtruncate). The memfd object itself is declared in the world; a
 * memfd declared `live: false` exists only once memfd_create ran.
 */
import { BLOCKED, ENDED } from '../../src/engine/proc.js';
import { EBUSY, EINVAL, EPERM, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE, FOLIO_USED, MAX_PC } from '../../src/kernel/defs.js';
import { i_size, mapping_writably_mapped, memfd_live, memfd_seals } from '../../src/kernel/filemap.js';
import { F_MAPCOUNT, F_REF, F_STATE, kern, M_LIVE, M_SEALS, M_SIZE } from '../../src/kernel/kernel.js';
import { kproc } from '../../src/kernel/kproc.js';
import { truncate_range, unmap_mapping_range } from './punch-hole.js';
import type { MemfdId } from '../../src/kernel/ids.js';

const F_ALL_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
export const MFD_ALLOW_SEALING = 0x2;

/** memfd_create(name, flags): args [memfd, flags]; 0. Without MFD_ALLOW_SEALING the file is F_SEAL_SEALed. */
export const memfd_create = kproc(
  'memfd_create',
  'mm/memfd.c: memfd_create',
  (a: { map: MemfdId; flags: number }) => ({ map: a.map, flags: a.flags }),
  {
    create: (k, l) => {
      const K = kern(k);
      if (memfd_live(k.w, K, l.map)) return k.ret(EINVAL);
      k.w.set(K.mapSlot(l.map, M_LIVE), 1);
      k.w.set(K.mapSlot(l.map, M_SIZE), 0);
      k.w.set(K.mapSlot(l.map, M_SEALS), l.flags & MFD_ALLOW_SEALING ? 0 : F_SEAL_SEAL);
      return k.ret(0);
    },
  },
);

/**
 * ftruncate(fd, size): args [memfd, size in the mapping's pages]; 0, -EPERM (seals) or -EINVAL.
 * Shrinking: i_size first, then unmap_mapping_range(even_cows), truncate the cache, unmap again.
 */
export const ftruncate = kproc(
  'ftruncate',
  'fs/open.c: do_truncate → mm/shmem.c: shmem_setattr (fs/hugetlbfs/inode.c: hugetlb_vmtruncate)',
  (a: { map: MemfdId; size: number }) => ({ map: a.map, size: a.size, old: 0, ret: 0 }),
  {
    inode_lock: (k, l) => (k.down_write(kern(k).mapping(l.map).i_rwsem) ? 'check' : BLOCKED),
    check: (k, l) => {
      const K = kern(k);
      const seals = memfd_seals(k.w, K, l.map);
      l.old = i_size(k.w, K, l.map);
      if (!memfd_live(k.w, K, l.map) || l.size > MAX_PC) l.ret = EINVAL;
      else if ((l.size < l.old && seals & F_SEAL_SHRINK) || (l.size > l.old && seals & F_SEAL_GROW)) l.ret = EPERM;
      if (l.ret) return 'inode_unlock';
      k.w.set(K.mapSlot(l.map, M_SIZE), l.size); // i_size_write
      return l.size < l.old ? 'unmap' : 'inode_unlock';
    },
    unmap: (k, l) => {
      const hugetlb = kern(k).mapping(l.map).hugetlb ? 1 : 0;
      return k.call(unmap_mapping_range, { map: l.map, start: l.size, end: MAX_PC, even_cows: 1, write: hugetlb }, 'truncate');
    },
    truncate: (k, l) => k.call(truncate_range, { map: l.map, index: l.size, end: MAX_PC }, 'unmap_again'),
    unmap_again: (k, l) => {
      if (kern(k).mapping(l.map).hugetlb) return 'inode_unlock';
      return k.call(unmap_mapping_range, { map: l.map, start: l.size, end: MAX_PC, even_cows: 1, write: 0 }, 'inode_unlock');
    },
    inode_unlock: (k, l) => (k.up_write(kern(k).mapping(l.map).i_rwsem) ? k.ret(l.ret) : ENDED),
  },
);

/**
 * fcntl(F_ADD_SEALS): args [memfd, seals]; 0, -EPERM (already F_SEAL_SEAL), -EINVAL or -EBUSY
 * (F_SEAL_WRITE while writably mapped, or while folios have extra references: memfd_wait_for_pins,
 * simplified to a single check instead of its retry loop).
 */
export const memfd_add_seals = kproc(
  'memfd_add_seals',
  'mm/memfd.c: memfd_add_seals',
  (a: { map: MemfdId; seals: number }) => ({ map: a.map, seals: a.seals, ret: 0 }),
  {
    inode_lock: (k, l) => (k.down_write(kern(k).mapping(l.map).i_rwsem) ? 'check' : BLOCKED),
    check: (k, l) => {
      const K = kern(k);
      const m = k.w;
      const cur = memfd_seals(m, K, l.map);
      if (l.seals & ~F_ALL_SEALS || !memfd_live(m, K, l.map)) l.ret = EINVAL;
      else if (cur & F_SEAL_SEAL) l.ret = EPERM;
      else if (l.seals & F_SEAL_WRITE && !(cur & F_SEAL_WRITE)) {
        if (mapping_writably_mapped(m, K, l.map)) l.ret = EBUSY; // mapping_deny_writable
        for (let i = 0; i < MAX_PC && !l.ret; i++) {
          const f = m.get(K.pcSlot(l.map, i)) - 1;
          if (f >= 0 && m.get(K.fSlot(f, F_STATE)) === FOLIO_USED && m.get(K.fSlot(f, F_REF)) - m.get(K.fSlot(f, F_MAPCOUNT)) !== 1) l.ret = EBUSY;
        }
      }
      if (!l.ret) m.set(K.mapSlot(l.map, M_SEALS), cur | l.seals);
      return 'inode_unlock';
    },
    inode_unlock: (k, l) => (k.up_write(kern(k).mapping(l.map).i_rwsem) ? k.ret(l.ret) : ENDED),
  },
);
