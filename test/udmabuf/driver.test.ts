/**
 * The udmabuf driver and the dma-buf core, through the selftest's test-5/test-6 and seed 002: each
 * verdict found by DFS and its witness replayed and read step by step.
 */
import { describe, expect, it } from 'vitest';
import { EFAULT, EINVAL, pmd_is_table, pmd_table, pte_present } from '../../src/kernel/defs.js';
import type { MmId, VmaId } from '../../src/kernel/ids.js';
import { F_PINCOUNT, KERNEL } from '../../src/kernel/kernel.js';
import { pmd_index, pmdp_get, pte_index } from '../../src/kernel/pgtable.js';
import { buildModel } from '../../src/scenario/build.js';
import { parseScenario } from '../../src/scenario/load.js';
import { model, serial } from '../kernel/mm-helpers.js';
import { at, clean, note, rets, step, witness } from './helpers.js';

describe('selftest test-5 / test-6: punch a hole under a udmabuf', () => {
  for (const kind of ['shmem', 'hugetlb'] as const) {
    const name = `udmabuf-selftest-${kind}`;
    it(`${kind}: importers read the pinned old page where the guest wrote 'b'`, () => {
      const { f, events } = witness(name, 'default', 'invariant');
      expect(f.verdict.message).toMatch(/^stale page: selftest read 97 from udmabuf ub page 0 \(folio (\d+)\) via sg \(device DMA\); the guest's memory holds 98 \(memfd index 0: folio (\d+)\)$/);
      const [, old, fresh] = /folio (\d+)\).*folio (\d+)\)/.exec(f.verdict.message) as RegExpExecArray;
      expect(old).not.toBe(fresh);
      // the order of the witness: pinned at create, punched out of the page cache, re-faulted by 'b', read
      const exported = at(events, note(new RegExp(`udmabuf ub exported: pinned folios \\[${old}, `)));
      const punched = at(events, step('selftest', 'vmm_discard:discard'), exported);
      const stored = at(events, note(new RegExp(`store 98 to vpn \\d+: folio ${fresh}$`)), punched);
      const read = at(events, note(/selftest reads 97 from ub page 0 via sg/), stored);
      expect(exported).toBeGreaterThanOrEqual(0);
      expect(punched).toBeGreaterThan(exported);
      expect(stored).toBeGreaterThan(punched);
      expect(read).toBeGreaterThan(stored);
      // page 1 was not punched: both importers saw 'b' there before page 0 was checked
      expect(at(events, note(/selftest reads 98 from ub page 1 via sg/), stored)).toBeGreaterThan(stored);
      expect(at(events, note(/selftest reads 98 from ub page 1 via mmap/), stored)).toBeGreaterThan(stored);
      expect(at(events, note(/selftest reads 98 from ub page 1 via vmap/), stored)).toBeGreaterThan(stored);
    });
    it(`${kind}: with RAM discard disabled the balloon skips the discard without an error (virtio_balloon_inhibited)`, () => {
      const { events } = serial(model(name, 'discard-disabled'), 3000);
      expect(rets(events, 'vmm_discard')).toEqual([0]);
      expect(at(events, note(/virtio_balloon_handle_output: virtio_balloon_inhibited .*no discard$/))).toBeGreaterThanOrEqual(0);
      expect(events.some((e) => e.k === 'step' && e.at.startsWith('punch_hole:'))).toBe(false);
      const allowed = serial(model(name, 'default'), 3000).events;
      expect(allowed.some((e) => e.k === 'step' && e.at.startsWith('punch_hole:'))).toBe(true);
    });
    it(`${kind}: with RAM discard disabled DFS completes clean`, () => {
      const r = clean(name, 'discard-disabled');
      expect(r.distinct).toBeGreaterThan(50);
    });
  }
});

describe('seed 002: dma-buf mmaps must be VM_PFNMAP', () => {
  it('udmabuf as merged: GUP-fast and GUP refuse the VM_PFNMAP mapping, DFS clean', () => {
    clean('udmabuf-mmap-gup', 'default');
    const { events } = witnessFree('default');
    expect(rets(events, 'pin_user_pages_fast')).toEqual([EFAULT]);
    expect(rets(events, 'pin_user_pages')).toEqual([EFAULT, EFAULT]); // gup_fast's fallback, then the direct call
    expect(at(events, note(/gup_fast: vpn \d+ not pinnable locklessly \(special PTE\)/))).toBeGreaterThanOrEqual(0);
  });

  it('an exporter mapping with normal PTEs lets GUP pin, and the punch leaves a mapped folio', () => {
    const { f, events } = witness('udmabuf-mmap-gup', 'vm-insert-page', 'invariant');
    expect(f.verdict.message).toBe('BUG: Bad page cache in process vmm: folio 0 still mapped when deleted (filemap_unaccount_folio)');
    expect(rets(events, 'pin_user_pages_fast')).toEqual([1]);
    expect(rets(events, 'pin_user_pages')).toEqual([1]);
    const fault = at(events, note(/udmabuf_vm_fault vpn \d+: vm_insert_page of pinned folios/));
    expect(fault).toBeGreaterThanOrEqual(0);
    expect(at(events, (e) => e.k === 'ret' && e.proc === 'pin_user_pages' && e.rv === 1)).toBeGreaterThan(fault);
  });

  it("the core's WARN_ON_ONCE(!VM_PFNMAP) flags that exporter's mmap", () => {
    const { f } = witness('udmabuf-mmap-gup', 'vm-insert-page-checked', 'warn');
    expect(f.verdict.message).toBe('WARNING at mmap_udmabuf:mmap: WARN_ON(!(vma->vm_flags & VM_PFNMAP))');
  });
});

/** The serial run of a clean variant (for its return values). */
function witnessFree(variant: string) {
  const t = serial(model('udmabuf-mmap-gup', variant), 3000);
  expect(t.w.verdict).toBeNull();
  return t;
}

describe('udmabuf_create against F_ADD_SEALS (the Dec 2024 inode-lock fix)', () => {
  it('fixed: inode_lock_shared across the seal check and the pin; DFS clean', () => {
    clean('udmabuf-create-vs-seal', 'fixed');
  });
  it('racy: the write seal lands between the check and the pin', () => {
    const { f, events } = witness('udmabuf-create-vs-seal', 'racy', 'invariant');
    expect(f.verdict.message).toBe('udmabuf ub holds pins on pages of write-sealed memfd guest');
    const checked = at(events, step('vmm', 'udmabuf_create:seals'));
    const sealed = at(events, step('sealer', 'memfd_add_seals:check'), checked); // F_SEAL_WRITE set under the inode lock
    const pinned = at(events, note(/^pinned folio 0/, 'vmm'), sealed);
    expect(checked).toBeGreaterThanOrEqual(0);
    expect(sealed).toBeGreaterThan(checked);
    expect(pinned).toBeGreaterThan(sealed);
  });
});

describe('begin_cpu_udmabuf builds ubuf->sg without a lock (derived from the driver)', () => {
  it('two first DMA_BUF_IOCTL_SYNC begins both build an sg table: one leaks', () => {
    const { f, events } = witness('udmabuf-cpu-access', 'two-users', 'invariant');
    const m = /^memory leak: begin_cpu_udmabuf of (spice|ui) overwrites the ubuf->sg of ub that (spice|ui) built \(no lock around ubuf->sg\)$/.exec(f.verdict.message);
    expect(m).not.toBeNull();
    const [, second, first] = m as RegExpExecArray;
    expect(second).not.toBe(first);
    // both checked before either stored
    const c1 = at(events, step(first as string, 'dma_buf_cpu_access:check'));
    const c2 = at(events, step(second as string, 'dma_buf_cpu_access:check'));
    const b1 = at(events, step(first as string, 'dma_buf_cpu_access:build'));
    expect(Math.max(c1, c2)).toBeLessThan(b1);
    expect(f.verdict.at).toBe('dma_buf_cpu_access:build');
  });
  it('one user: DFS clean', () => {
    clean('udmabuf-cpu-access', 'one-user');
  });
});

describe('mmap_udmabuf and the old fault handler (review fixes)', () => {
  const mmapScenario = (vmaPages: number, old: boolean) =>
    buildModel(
      parseScenario(
        `name: t
description: mmap size check and the old fault handler
world:
  memfds:
    guest: { kind: shmem, pages: 2, seals: [F_SEAL_SHRINK], populated: [0, 1] }
  udmabufs:
    ub: { memfd: guest, pages: 2 }
  mms:
    qemu:
      vmas:
        buf: { dmabuf: ub, shared: true, pages: ${vmaPages} }
actors:
  - name: vmm
    mm: qemu
    ops:
      - { op: udmabuf_create, udmabuf: ub }
      - { op: udmabuf_mmap, udmabuf: ub, vma: buf }
      - { op: dmabuf_read, udmabuf: ub, page: 0, via: mmap, vma: buf }
variants:
  default:
    switches: { udmabuf_vm_insert_page: ${old} }
    expect: []
`,
        't.yaml',
      ),
      'default',
    );

  it('dma_buf_mmap_internal refuses a VMA larger than the dma-buf with -EINVAL', () => {
    const t = serial(mmapScenario(3, false), 3000);
    expect(rets(t.events, 'mmap_udmabuf')).toEqual([EINVAL]);
  });

  it('the old handler maps only the faulting page (no pre-fault, no ->map_pages)', () => {
    const pages = (old: boolean) => {
      const t = serial(mmapScenario(2, old), 3000);
      expect(rets(t.events, 'mmap_udmabuf')).toEqual([0]);
      const K = KERNEL.of(t.w.model);
      const mm = K.mm(0 as MmId);
      const v = K.vma(mm.vmas[0] as VmaId);
      let mapped = 0;
      for (let i = 0; i < v.pages; i++) {
        const pmd = pmdp_get(t.w, K, v.mm, pmd_index(v.start + i));
        if (pmd_is_table(pmd) && pte_present(t.w.get(K.pteSlot(pmd_table(pmd), pte_index(v.start + i))))) mapped++;
      }
      return mapped;
    };
    expect(pages(false)).toBe(2);
    expect(pages(true)).toBe(1);
  });
});

describe('udmabuf_create when memfd_pin_folios fails part-way (review fix)', () => {
  it('memfd_pin_folios unpins what it found and returns -errno, never a partial count: no pin leaks', () => {
    const m = buildModel(
      parseScenario(
        `name: t
description: a hugetlb hole after a populated page
world:
  memfds:
    guest: { kind: hugetlb, pages: 2, seals: [F_SEAL_SHRINK], populated: [0] }
  udmabufs:
    ub: { memfd: guest, pages: 2 }
actors:
  - name: vmm
    ops:
      - { op: udmabuf_create, udmabuf: ub }
variants:
  default:
    expect: []
`,
        't.yaml',
      ),
      'default',
    );
    const t = serial(m, 3000);
    expect(rets(t.events, 'memfd_pin_folios')).toEqual([EFAULT]);
    expect(rets(t.events, 'udmabuf_create')).toEqual([EFAULT]);
    const K = KERNEL.of(t.w.model);
    expect(t.w.get(K.fSlot(0, F_PINCOUNT))).toBe(0);
    expect(t.w.get(K.pinSlot(0, 0))).toBe(0);
  });
});
