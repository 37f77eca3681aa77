/**
 * The udmabuf display pipeline as message-passing actors (guest virtio-gpu driver, VMM, udmabuf,
 * importers): DFS proves it clean with guest-RAM discard disabled and finds the stale page with
 * discard allowed; the witness is replayed and its message trace read step by step.
 */
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/engine/events.js';
import { toHtml } from '../../src/trace/html.js';
import { toMermaid } from '../../src/trace/mermaid.js';
import { timeline } from '../../src/trace/timeline.js';
import { model } from '../kernel/mm-helpers.js';
import { at, clean, note, sent, step, witness } from './helpers.js';

const fence = (op: string, name: string, t?: string) => (e: TraceEvent) => e.k === 'fence' && e.op === op && e.fence === name && (t === undefined || e.t === t);

describe('udmabuf-pipeline (GPU + QEMU UI importers)', () => {
  it('every actor speaks its own protocol machine', () => {
    const m = model('udmabuf-pipeline', 'discard');
    const byActor = Object.fromEntries(m.threads.map((t, i) => [t.name, m.protocols[i]?.name ?? null]));
    expect(byActor).toEqual({ balloon: null, guest: 'virtio-gpu-guest', vmm: 'virtio-gpu-vmm', udmabuf: 'udmabuf', gpu: 'dma-buf-importer', ui: 'dma-buf-importer' });
  });

  it('with RAM discard disabled DFS completes clean', () => {
    const r = clean('udmabuf-pipeline', 'discard-disabled');
    expect(r.distinct).toBeGreaterThan(1000);
  });

  it('with discard allowed an importer reads the pinned page the guest no longer has', () => {
    const { f, events, f: { choices } } = witness('udmabuf-pipeline', 'discard', 'invariant');
    expect(f.verdict.message).toMatch(/^stale page: (gpu|ui) read (97|98) from udmabuf blob page 0( \(folio \d+\))? via (sg \(device DMA\)|mmap); the guest's memory holds (98|0) \(memfd index 0: (folio \d+|a hole)\)$/);
    expect(choices.length).toBeGreaterThan(10);
    // guest → VMM → udmabuf → importers → fences back, in this order
    const seq = [
      sent('CreateBlob', 'guest'),
      sent('Create', 'vmm'),
      sent('Fd', 'udmabuf'),
      sent('Import', 'vmm'),
      sent('Created', 'vmm'),
      sent('Flush', 'guest'),
      sent('Frame', 'vmm'),
      fence('signal', 'ui.frame1', 'ui'),
      fence('waited', 'ui.frame1', 'balloon'),
      step('balloon', 'vmm_discard:discard'),
    ];
    let i = 0;
    for (const p of seq) {
      const j = at(events, p, i);
      expect(j, `${seq.indexOf(p)}`).toBeGreaterThanOrEqual(i);
      i = j;
    }
    // the reply to the first call is marked as a reply and pairs with the guest's receipt
    const created = events.find((e) => e.k === 'send' && e.name === 'Created');
    expect(created).toMatchObject({ reply: true, to: 'guest', fields: { res: 1, err: 0 } });
    const got = events.find((e) => e.k === 'recv' && e.name === 'Created');
    expect(got).toMatchObject({ t: 'guest', from: 'vmm', id: (created as { id: string }).id });
    // the punch removed the pinned page from the page cache; the reader still reads through udmabuf's folio array
    const discard = at(events, step('balloon', 'vmm_discard:discard'));
    expect(at(events, (e) => e.k === 'call' && e.proc === 'punch_hole' && e.t === 'balloon', discard)).toBeGreaterThan(discard);
    // the Mermaid sequence diagram draws the messages as arrows between the actors' lanes
    const mmd = toMermaid(events, { scenario: 'udmabuf-pipeline', variant: 'discard', token: 'x', verdict: null });
    expect(mmd).toMatch(/-\)\S+: #35;\d+ virtio_gpu_guest:create: send CreateBlob\(res=1, pages=1\)/);
    expect(mmd).toMatch(/-\)\S+: #35;\d+ udmabuf_server:created: reply Fd\(fd=0, err=0\)/);
    // the HTML viewer draws each delivery as an arrow from the sender's lane to the receiver's
    const tl = timeline(events);
    const lane = (a: string) => tl.actors.indexOf(a);
    const create = tl.arrows.find((a) => a.label === 'CreateBlob(res=1, pages=1)');
    expect(create).toMatchObject({ from: lane('guest'), to: lane('vmm') });
    const reply = tl.arrows.find((a) => a.label === 'Created(res=1, err=0)');
    expect(reply).toMatchObject({ from: lane('vmm'), to: lane('guest') });
    expect((reply as { recvStep: number }).recvStep).toBeGreaterThan((create as { sendStep: number }).sendStep);
    const html = toHtml(events, { scenario: 'udmabuf-pipeline', variant: 'discard', token: 'x', verdict: null });
    expect(html).toContain('CreateBlob(res=1, pages=1)');
  });
});

describe('udmabuf-pipeline: the fences are what keeps frames whole', () => {
  it("a guest that renders frame 2 before frame 1's fence lets an importer see a torn frame", () => {
    const { f, events } = witness('udmabuf-pipeline', 'no-fence-wait', 'invariant');
    expect(f.verdict.message).toMatch(/^torn frame: (gpu|ui) read 98 from udmabuf blob page 0 for frame 1; the guest wrote 97 for that frame$/);
    const importer = (/^torn frame: (\w+)/.exec(f.verdict.message) as RegExpExecArray)[1] as string;
    // Flush(frame 1) is queued with a plain send (no waitingReply), the guest stores frame 2's pixel,
    // then the importer handles Frame(1) and reads it
    const flush1 = at(events, (e) => e.k === 'send' && e.name === 'Flush' && e.fields?.frame === 1 && !e.reply);
    const store2 = at(events, note(/^store 98 to vpn \d+: folio \d+$/, 'guest'), flush1);
    const frame1 = at(events, (e) => e.k === 'recv' && e.t === importer && e.name === 'Frame' && e.fields?.frame === 1);
    expect(flush1).toBeGreaterThanOrEqual(0);
    expect(store2).toBeGreaterThan(flush1);
    expect(at(events, note(new RegExp(`^${importer} reads 98 from blob page 0`)), Math.max(store2, frame1))).toBeGreaterThan(store2);
    // the guest's memory and the importer agree (no stale page): the pixel is from the wrong frame
    expect(at(events, (e) => e.k === 'fence' && e.op === 'signal' && e.fence === `${importer}.frame1`)).toBe(-1);
  });
});

describe('udmabuf-pipeline-encoders (Spice + GStreamer importers)', () => {
  it('with RAM discard disabled DFS completes clean', () => {
    clean('udmabuf-pipeline-encoders', 'discard-disabled');
  });
  it('with discard allowed an encoder reads the stale page', () => {
    const { f, events } = witness('udmabuf-pipeline-encoders', 'discard', 'invariant');
    expect(f.verdict.message).toMatch(/^stale page: (spice|gst) read/);
    // Spice brackets its CPU reads with DMA_BUF_IOCTL_SYNC; the first begin builds ubuf->sg
    expect(at(events, step('spice', 'dma_buf_cpu_access:build'))).toBeGreaterThanOrEqual(0);
  });
});
