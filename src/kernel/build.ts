/**
 * Building the kernel objects of a model from a plain description (desc.ts; the scenario's `world`
 * section is translated into it by src/scenario/world.ts). Reserves memory, declares locks, lays VMAs
 * out at pmd-aligned addresses, sets up the initial state (populated pages: populate.ts), and
 * installs the invariants and the lock-order oracle.
 */
import type { ModelBuilder } from '../engine/model.js';
import {
  HPAGE_PMD_ORDER,
  PTRS_PER_PTE,
  VM_DONTDUMP,
  VM_DONTEXPAND,
  VM_HUGEPAGE,
  VM_HUGETLB,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_PFNMAP,
  VM_READ,
  VM_SHARED,
  VM_UFFD_MINOR,
  VM_UFFD_MISSING,
  VM_UFFD_WP,
  VM_WRITE,
} from './defs.js';
import type { KernelDesc, VmaDesc } from './desc.js';
import { cachesHoldLiveFolios, deviceMapsWhatCpuMaps, noMappedFreedFolio, refcountCoversMapsAndPins } from './invariants.js';
import { fileMapsCachedFolio } from './filemap-invariant.js';
import {
  initMem,
  Kernel,
  KERNEL,
  M_LIVE,
  M_SEALS,
  M_SIZE,
  MI_SEQ,
  MM_INV_SEQ,
  MM_USERS,
  VMA_ATTACHED,
  VMA_FLAGS,
  VMA_IMMAP,
} from './kernel.js';
import { makeOrderRule } from './order.js';
import { cacheFolio, populate } from './populate.js';
import { type MemfdId, NO_MEMFD, NO_MIRROR } from './ids.js';
import { Folios } from './sys/folio.js';
import { Memfds } from './sys/memfd.js';
import { Mms } from './sys/mm.js';
import { Notifiers } from './sys/notifier.js';
import { PageTables } from './sys/pgtable.js';

export type { KernelDesc, MemfdDesc, MirrorDesc, MmDesc, VmaDesc } from './desc.js';

const UFFD_FLAGS = { missing: VM_UFFD_MISSING, minor: VM_UFFD_MINOR, wp: VM_UFFD_WP } as const;

/** Build every kernel object; registers the Kernel as the KERNEL subsystem. Throws on inconsistent input. */
export function buildKernel(b: ModelBuilder, d: KernelDesc): Kernel {
  const pgtable = new PageTables();
  const folio = new Folios();
  const vm = new Mms();
  const memfd = new Memfds();
  const notifier = new Notifiers();
  const memfdIds = new Map(d.memfds.map((m, i) => [m.name, i]));
  const hugetlbMemfd = (name?: string) => name !== undefined && d.memfds[memfdIds.get(name) ?? -1]?.kind === 'hugetlb';

  // --- sizes ---
  const vmaDescs: { mm: number; d: VmaDesc }[] = [];
  const npmd: number[] = [];
  d.mms.forEach((mm, mi) => {
    let pmds = 0;
    for (const v of mm.vmas) {
      if (v.memfd !== undefined && !memfdIds.has(v.memfd)) throw new Error(`VMA ${v.name}: no memfd named ${v.memfd}`);
      const base = v.pages << (hugetlbMemfd(v.memfd) ? HPAGE_PMD_ORDER : 0);
      pmds += Math.ceil(base / PTRS_PER_PTE);
      vmaDescs.push({ mm: mi, d: v });
    }
    npmd.push(Math.max(1, pmds));
  });
  let folios = 2;
  let huge = 0;
  for (const m of d.memfds) if (m.kind === 'hugetlb') huge += m.pages;
  else folios += m.pages;
  for (const { d: v } of vmaDescs) if (v.memfd === undefined || !v.shared) folios += v.pages;
  const pools = {
    folios: d.pools?.folios ?? Math.min(folios, 24),
    hugetlb: d.pools?.hugetlb ?? (huge ? huge + 1 : 0),
    tables: d.pools?.tables ?? npmd.reduce((a, n) => a + n, 0) + 1,
  };

  // --- memory ---
  vm.reserve(
    b,
    d.mms.map((mm) => mm.name),
    npmd,
    vmaDescs.length,
  );
  pgtable.reserve(b, pools.tables);
  folio.reserve(b, pools.folios, pools.hugetlb);
  memfd.reserve(b, d.memfds.length);
  const mirrorCount = vmaDescs.filter((v) => v.d.mirror).length;
  notifier.reserve(b, mirrorCount);
  folio.reservePins(b);

  // --- locks and handles ---
  pgtable.declareLocks(b);
  folio.declareLocks(b);
  memfd.declare(b, d.memfds);
  for (const mmd of d.mms) {
    const mm = vm.addMm(b, mmd.name);
    let start = 0;
    for (const v of mmd.vmas) {
      const map = v.memfd === undefined ? NO_MEMFD : (memfdIds.get(v.memfd) as MemfdId);
      const hugetlb = hugetlbMemfd(v.memfd);
      const shift = hugetlb ? HPAGE_PMD_ORDER : 0;
      const basePages = v.pages << shift;
      let mirror = NO_MIRROR;
      if (v.mirror) {
        mirror = notifier.addMirror(b, v.mirror.name, mm.id, vm.nextVma, start + (v.mirror.first << shift), start + ((v.mirror.first + v.mirror.pages) << shift));
        mm.mirrors.push(mirror);
      }
      const h = vm.addVma(b, {
        name: v.name,
        mm: mm.id,
        start,
        end: start + basePages,
        pages: v.pages,
        shift,
        memfd: map,
        pgoff: v.offset ?? 0,
        mirror,
        hugetlb,
        anon: map < 0 || !v.shared,
      });
      if (map >= 0) memfd.mapping(map).vmas.push(h.id);
      start += Math.ceil(basePages / PTRS_PER_PTE) * PTRS_PER_PTE;
    }
  }

  const K = new Kernel(pgtable, folio, vm, memfd, notifier);

  // --- initial state ---
  const m = initMem(b);
  for (const mm of K.mms) {
    m.set(mm.base + MM_USERS, 1);
    m.set(mm.base + MM_INV_SEQ, 2); // mmu_notifier_subscriptions_init: invalidate_seq = 2
  }
  d.memfds.forEach((md, id) => {
    const h = K.mapping(id);
    m.set(h.base + M_LIVE, md.live ? 1 : 0);
    m.set(h.base + M_SIZE, md.live ? md.pages : 0);
    m.set(h.base + M_SEALS, md.seals);
    for (const i of md.populated) cacheFolio(m, K, id, i);
  });
  for (const mi of K.mirrors) m.set(mi.base + MI_SEQ, 1); // insert when idle: invalidate_seq - 1
  vmaDescs.forEach(({ d: v }, id) => {
    const h = K.vma(id);
    const hugetlb = hugetlbMemfd(v.memfd);
    const write = v.write ?? true;
    let flags = VM_READ | (write ? VM_WRITE | VM_MAYWRITE : 0);
    if (v.shared) flags |= VM_SHARED | VM_MAYSHARE;
    if (hugetlb) flags |= VM_HUGETLB;
    if (v.pfnmap) flags |= VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
    if (v.thp) flags |= VM_HUGEPAGE;
    for (const u of v.uffd ?? []) flags |= UFFD_FLAGS[u];
    m.set(h.base + VMA_FLAGS, flags);
    m.set(h.base + VMA_ATTACHED, 1);
    if (h.memfd >= 0) m.set(h.base + VMA_IMMAP, 1);
    for (const p of v.populated ?? []) populate(m, K, h, p, flags);
  });

  b.invariants.push(noMappedFreedFolio(K), refcountCoversMapsAndPins(K), cachesHoldLiveFolios(K));
  if (K.mirrors.length > 0) b.invariants.push(deviceMapsWhatCpuMaps(K));
  if (K.mappings.some((m) => m.fs)) b.invariants.push(fileMapsCachedFolio(K));
  b.orderRule = makeOrderRule(b.classes);
  return b.provide(KERNEL, K);
}
