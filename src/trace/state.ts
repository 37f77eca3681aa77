/**
 * Compact snapshots of a world for the trace viewer's state panel: page tables (pmd → table → PTEs),
 * PTE tables with their lifecycle state, folios (ref/map/pin, lock holder, flags), the page cache,
 * VMAs, HMM mirrors' device PTEs, every lock with its holders and waiters, and each protocol actor's
 * machine state and mailbox. A snapshot is a flat map `key → text` whose key
 * prefix names the section, so two snapshots diff key by key. Taken only when an exporter asks for
 * it (a replay with snapshots), never while exploring.
 */
import { aslot } from '../engine/delivery.js';
import { A_LEN, A_MSGS, A_PSTATE, E_FIELDS, E_FROM, E_TYPE } from '../engine/mailbox-layout.js';
import type { World } from '../engine/world.js';
import {
  FOLIO_USED,
  is_migration_entry,
  is_pmd_migration_entry,
  is_swap_pte,
  is_zero_pfn,
  PG_anon,
  PG_anon_exclusive,
  PG_dirty,
  PG_uptodate,
  PT_ATTACHED,
  PT_DETACHED,
  PT_FREE,
  PT_NEW,
  PTRS_PER_PTE,
  pfn_folio,
  pmd_is_table,
  pmd_none,
  pmd_pfn,
  pmd_table,
  pmd_trans_huge,
  pte_dirty,
  pte_pfn,
  pte_present,
  pte_special,
  pte_write,
} from '../kernel/defs.js';
import {
  F_FLAGS,
  F_INDEX,
  F_MAPCOUNT,
  F_MAPPING,
  F_PINCOUNT,
  F_REF,
  F_STATE,
  type Kernel,
  KERNEL,
  M_PC,
  M_SIZE,
  MAP_FIELDS,
  MI_DEV,
  MI_SEQ,
  PT_OWNER,
  PT_STATE,
  VMA_ATTACHED,
} from '../kernel/kernel.js';
import { type MachineView, machineViews } from './machines.js';
import { heldLock, heldMode, READ, T_HELD, T_NHELD, T_WAIT_LOCK, T_WAIT_MODE, THREAD_STRIDE } from '../locks/space.js';

/** `section key → text`; sections: pmd, table, folio, cache, vma, mirror, lock, protocol, mailbox. */
export type StateSnapshot = Record<string, string>;

const TABLE_STATE: Record<number, string> = { [PT_FREE]: 'free', [PT_ATTACHED]: 'attached', [PT_DETACHED]: 'detached', [PT_NEW]: 'new' };

const folioOf = (pfn: number): string => (is_zero_pfn(pfn) ? 'zero page' : `folio ${pfn_folio(pfn)}`);

function pte(v: number): string {
  if (v === 0) return '-';
  if (pte_present(v)) return `${folioOf(pte_pfn(v))}${pte_write(v) ? ' rw' : ' ro'}${pte_dirty(v) ? ' dirty' : ''}${pte_special(v) ? ' special' : ''}`;
  if (is_migration_entry(v)) return `migration(${folioOf(pte_pfn(v))})`;
  if (is_swap_pte(v)) return `swap(${pte_pfn(v)})`;
  return `0x${v.toString(16)}`;
}

function pmd(v: number): string {
  if (pmd_none(v)) return 'none';
  if (pmd_is_table(v)) return `table ${pmd_table(v)}`;
  if (pmd_trans_huge(v)) return `huge ${folioOf(pmd_pfn(v))}`;
  if (is_pmd_migration_entry(v)) return 'migration entry';
  return `0x${v.toString(16)}`;
}

/** Holders and waiters of every lock, by thread name, from the threads' held lists and wait slots. */
function locks(w: World, out: StateSnapshot, names: (lock: number) => string): Map<number, string[]> {
  const holders = new Map<number, string[]>();
  const waiters = new Map<number, string[]>();
  for (let t = 0; t < w.nthreads; t++) {
    const base = w.threadBase + t * THREAD_STRIDE;
    for (let i = 0; i < w.get(base + T_NHELD); i++) {
      const e = w.get(base + T_HELD + i);
      const l = heldLock(e);
      holders.set(l, [...(holders.get(l) ?? []), `${w.threadName(t)}${heldMode(e) === READ ? ' (read)' : ''}`]);
    }
    const wl = w.get(base + T_WAIT_LOCK);
    if (wl > 0) waiters.set(wl - 1, [...(waiters.get(wl - 1) ?? []), `${w.threadName(t)}${w.get(base + T_WAIT_MODE) === READ ? ' (read)' : ''}`]);
  }
  for (let l = 0; l < w.model.locks.length; l++) {
    const h = holders.get(l);
    const q = waiters.get(l);
    if (h || q) out[`lock ${names(l)}`] = `${h ? `held by ${h.join(', ')}` : 'free'}${q ? `; waiting: ${q.join(', ')}` : ''}`;
  }
  return holders;
}

function flags(f: number): string {
  const out: string[] = [];
  if (f & PG_uptodate) out.push('uptodate');
  if (f & PG_dirty) out.push('dirty');
  if (f & PG_anon) out.push('anon');
  if (f & PG_anon_exclusive) out.push('exclusive');
  return out.join(' ');
}

function kernel(w: World, K: Kernel, out: StateSnapshot, holders: Map<number, string[]>): void {
  for (const mm of K.mms)
    for (let p = 0; p < mm.npmd; p++) {
      const v = w.get(K.pmdSlot(mm.id, p));
      if (v !== 0) out[`pmd ${mm.name}[${p}]`] = pmd(v);
    }
  for (let t = 0; t < K.ntables; t++) {
    const st = w.get(K.ptSlot(t, PT_STATE));
    if (st === PT_FREE) continue;
    const owner = w.get(K.ptSlot(t, PT_OWNER));
    const of = owner > 0 ? ` (${K.mm(Math.floor((owner - 1) / 256)).name} pmd ${(owner - 1) % 256})` : '';
    const ptes = Array.from({ length: PTRS_PER_PTE }, (_, i) => pte(w.get(K.pteSlot(t, i))));
    out[`table ${t}`] = `${TABLE_STATE[st] ?? st}${of}: [${ptes.join(', ')}]`;
  }
  for (let f = 0; f < K.nfolios; f++) {
    const used = w.get(K.fSlot(f, F_STATE)) === FOLIO_USED;
    const ref = w.get(K.fSlot(f, F_REF));
    if (!used && ref === 0) {
      out[`folio ${f}`] = 'free';
      continue;
    }
    const lock = holders.get(K.folioLock[f] as number);
    const fl = flags(w.get(K.fSlot(f, F_FLAGS)));
    const mapping = w.get(K.fSlot(f, F_MAPPING));
    const where = mapping > 0 && !(w.get(K.fSlot(f, F_FLAGS)) & PG_anon) ? ` ${K.mapping(mapping - 1).name}[${w.get(K.fSlot(f, F_INDEX))}]` : '';
    out[`folio ${f}`] =
      `ref ${ref} map ${w.get(K.fSlot(f, F_MAPCOUNT))} pin ${w.get(K.fSlot(f, F_PINCOUNT))}${lock ? ` locked by ${lock.join(', ')}` : ''}${fl ? ` ${fl}` : ''}${where}`;
  }
  for (const m of K.mappings) {
    const size = w.get(K.mapSlot(m.id, M_SIZE));
    const slots: string[] = [];
    for (let i = 0; i < MAP_FIELDS.length - M_PC; i++) {
      const f = w.get(K.pcSlot(m.id, i));
      if (f > 0) slots.push(`${i}: folio ${f - 1}`);
    }
    out[`cache ${m.name}`] = `size ${size}${slots.length ? `; ${slots.join(', ')}` : '; empty'}`;
  }
  for (const mi of K.mirrors) {
    const dev = Array.from({ length: mi.end - mi.start }, (_, i) => w.get(K.mirrorSlot(mi.id, MI_DEV + i))).map((pfn) => (pfn ? folioOf(pfn) : '-'));
    out[`mirror ${mi.name}`] = `seq ${w.get(K.mirrorSlot(mi.id, MI_SEQ))}; device PTEs [${dev.join(', ')}]`;
  }
  for (const v of K.vmas)
    out[`vma ${v.name}`] = `${K.mm(v.mm).name} pages ${v.start}..${v.end - 1}${v.memfd >= 0 ? ` ${K.mapping(v.memfd).name}` : ' anon'}${w.get(K.vmaSlot(v.id, VMA_ATTACHED)) ? '' : ' (detached)'}`;
}

/** Each protocol actor's machine state (`protocol <actor>` = the state's name) and its waiting messages. */
function actors(w: World, out: StateSnapshot): void {
  w.model.protocols.forEach((p, tid) => {
    if (!p) return;
    const name = w.threadName(tid);
    out[`protocol ${name}`] = p.states[w.get(aslot(w, tid, A_PSTATE))] ?? '?';
    const len = w.get(aslot(w, tid, A_LEN));
    const msgs: string[] = [];
    for (let k = 0; k < len; k++) {
      const e = aslot(w, tid, A_MSGS + k * w.entryStride);
      const code = w.get(e + E_TYPE);
      const fields = (p.vocab.fields[code] ?? []).map((f, j) => `${f}=${w.get(e + E_FIELDS + j)}`);
      msgs.push(`${p.vocab.names[code] ?? code}(${fields.join(', ')}) from ${w.threadName(w.get(e + E_FROM))}`);
    }
    if (len > 0) out[`mailbox ${name}`] = msgs.join('; ');
  });
}

/** The snapshot of `w` now. */
export function snapshot(w: World): StateSnapshot {
  const out: StateSnapshot = {};
  const holders = locks(w, out, (l) => w.model.locks[l]?.name ?? `lock${l}`);
  const K = KERNEL.find(w.model);
  if (K) kernel(w, K, out, holders);
  actors(w, out);
  return out;
}

/** A delta from `prev` to `next`: changed or new keys with their text, removed keys as null. */
export function delta(prev: StateSnapshot, next: StateSnapshot): Record<string, string | null> {
  const d: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(next)) if (prev[k] !== v) d[k] = v;
  for (const k of Object.keys(prev)) if (!(k in next)) d[k] = null;
  return d;
}

/** One recorded state: the world after `i` steps, as a delta from the one before. */
export interface StateDelta {
  readonly i: number;
  readonly d: Record<string, string | null>;
  /** On the first delta only, when some actor speaks a protocol: the actors' machines (fixed for the run). */
  machines?: readonly MachineView[];
}

/** An observer for replayToken that records a delta per step (the viewer rebuilds the snapshots). */
export function stateRecorder(): { observe: (w: World) => void; states: StateDelta[] } {
  const states: StateDelta[] = [];
  let prev: StateSnapshot = {};
  const observe = (w: World) => {
    const next = snapshot(w);
    const d = delta(prev, next);
    const last = states[states.length - 1];
    if (last && last.i === w.steps) Object.assign(last.d, d);
    else if (last) states.push({ i: w.steps, d });
    else states.push(w.model.protocols.length ? { i: w.steps, d, machines: machineViews(w.model) } : { i: w.steps, d });
    prev = next;
  };
  return { observe, states };
}
