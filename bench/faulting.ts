/**
 * `node dist/bench/faulting.js [BASE|-] [MAX_THREADS] [MIN_THREADS]`: the scaled remap-vs-khugepaged proof
 * (uffd-remap-vs-khugepaged / rfc-v2, RFC v2 UFFDIO_REMAP against khugepaged under mmap_lock write)
 * with 0..MAX_THREADS (default 4) extra threads each faulting one page of src (pages 1..3 in turn),
 * DFS with the default order: distinct states, transitions, completeness and CPU seconds; with BASE
 * (another checkout with this file built) that build's numbers beside, from a child process in the same run. A search stops at 3M (MAX_STATES)
 * states or 60 s (DEADLINE_MS; then it is reported incomplete). Markdown on stdout.
 * `node dist/bench/faulting.js --lockset [MAX] [MIN]`: default semantics and the lockset reduction
 * (src/engine/lockset.ts) side by side, N = MIN..MAX (default 0..3; N = 3 needs MAX_STATES=8000000).
 * `node dist/bench/faulting.js --dpor [MAX] [MIN] [BASE]`: DPOR (src/explore/dpor.ts) and DPOR under
 * the lockset reduction side by side, N = MIN..MAX (default 0..3); with BASE that build's figures beside.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { World } from '../src/engine/world.js';
import { dfs } from '../src/explore/dfs.js';
import { type LocksetResult, locksetSearch } from '../src/explore/lockset-rounds.js';
import { buildModel } from '../src/scenario/build.js';
import { parseScenario } from '../src/scenario/load.js';

const MAX_STATES = Number(process.env.MAX_STATES ?? 3_000_000);
const DEADLINE_MS = Number(process.env.DEADLINE_MS ?? 60_000);

interface Figures {
  states: number;
  transitions: number;
  complete: boolean;
  cpu: number;
  verdicts: string;
  /** Under the lockset reduction: rounds, and the transitions of all rounds. */
  rounds?: number;
  allTransitions?: number;
}

/** The scaled scenario with `faulting` extra threads (variants rfc-v2 and khugepaged-mmap-read). */
export function scenario(faulting: number): string {
  const actors = Array.from({ length: faulting }, (_, i) => `  - name: fault${i}\n    mm: P\n    ops:\n      - { op: read, vma: src, page: ${1 + (i % 3)} }\n`).join('');
  return `name: remap-vs-khugepaged-${faulting}\ndescription: bench\nworld:\n  mms:\n    P:\n      vmas:\n        src: { pages: 4, populated: [0] }\n        dst: { pages: 4, uffd: [missing] }\nactors:\n  - name: mover\n    mm: P\n    ops:\n      - { op: uffdio_remap, dst: dst, src: src, pages: 1 }\n  - name: khugepaged\n    mm: P\n    ops:\n      - { op: khugepaged_anon, vma: src }\n${actors}variants:\n  rfc-v2: { expect: [], complete: true }\n  khugepaged-mmap-read: { switches: { khugepaged_anon_mmap_read: true }, expect: [bug, invariant] }\n`;
}

/** The DFS with N faulting threads; with `lockset`, under the lockset reduction (src/engine/lockset.ts), all rounds timed; with `dpor`, DPOR. */
function measure(faulting: number, lockset = false, dpor = false): Figures {
  const model = buildModel(parseScenario(scenario(faulting), 'faulting.yaml'), 'rfc-v2');
  const w = new World(model, null);
  const t0 = process.cpuUsage();
  const o = { maxSteps: 2000, maxStates: MAX_STATES, preemptions: Number.POSITIVE_INFINITY, deadline: Date.now() + DEADLINE_MS, dpor };
  const r = lockset ? locksetSearch(w, o, dfs) : dfs(w, o);
  const d = process.cpuUsage(t0);
  const verdicts = [...new Set(r.findings.map((f) => f.verdict.code))].join(',') || 'none';
  const f: Figures = { states: r.distinct, transitions: r.steps, complete: r.complete, cpu: (d.user + d.system) / 1e6, verdicts };
  if (lockset) {
    const l = r as LocksetResult;
    f.rounds = l.rounds;
    f.allTransitions = l.roundSteps.reduce((a, b) => a + b, 0);
  }
  return f;
}

/** The same measurement by another checkout's build, in a child process (null if it has none). */
function baseMeasure(root: string, faulting: number, mode = 'dfs'): Figures | null {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'bench', 'faulting.js'), '--json', String(faulting), mode], { encoding: 'utf8', env: process.env });
  return r.status === 0 ? (JSON.parse(r.stdout) as Figures) : null;
}

function main(): void {
  if (process.argv[2] === '--json') {
    const mode = process.argv[4] ?? 'dfs';
    process.stdout.write(JSON.stringify(measure(Number(process.argv[3]), mode.endsWith('lockset'), mode.startsWith('dpor'))));
    return;
  }
  if (process.argv[2] === '--lockset') return locksetTable(Number(process.argv[3] ?? 3), Number(process.argv[4] ?? 0));
  if (process.argv[2] === '--dpor') return dporTable(Number(process.argv[3] ?? 3), Number(process.argv[4] ?? 0), process.argv[5] ? resolve(process.argv[5]) : null);
  const base = process.argv[2] && process.argv[2] !== '-' ? resolve(process.argv[2]) : null;
  const max = Number(process.argv[3] ?? 4);
  console.log('\n### Scaled uffd-remap-vs-khugepaged / rfc-v2 with N faulting threads (DFS, default order)\n');
  console.log(`| N | ${base ? 'base states | base trans | base complete | base cpu s | ' : ''}states | trans | complete | cpu s | x per thread | verdicts |`);
  console.log(`|---|${base ? '---|---|---|---|' : ''}---|---|---|---|---|---|`);
  let prev = 0;
  for (let n = Number(process.argv[4] ?? 0); n <= max; n++) {
    const b = base ? baseMeasure(base, n) : null;
    const r = measure(n);
    const bcol = base ? (b ? `${b.states} | ${b.transitions} | ${b.complete ? 'yes' : 'NO'} | ${b.cpu.toFixed(2)} | ` : '- | - | - | - | ') : '';
    console.log(`| ${n} | ${bcol}${r.states} | ${r.transitions} | ${r.complete ? 'yes' : 'NO'} | ${r.cpu.toFixed(2)} | ${prev ? (r.states / prev).toFixed(1) : '-'} | ${r.verdicts} |`);
    prev = r.states;
  }
  console.log('\nSpin beside these figures: `node dist/bench/spin.js` (bench/promela/remap-vs-khugepaged.pml).');
}

/**
 * `--lockset [MAX] [MIN]`: the same searches with the default semantics and with the lockset
 * reduction side by side (states, x per thread; the reduction's rounds and CPU over all rounds).
 */
function locksetTable(max: number, min: number): void {
  console.log('\n### Scaled uffd-remap-vs-khugepaged / rfc-v2: default scheduling points vs the lockset reduction (DFS, sleep sets)\n');
  console.log('| N | states | x per thread | complete | cpu s | lockset states | x per thread | complete | rounds | trans (all rounds) | cpu s (all rounds) | verdicts |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  let prev = 0;
  let prevL = 0;
  for (let n = min; n <= max; n++) {
    const r = measure(n);
    const l = measure(n, true);
    const x = (a: number, b: number) => (b ? (a / b).toFixed(1) : '-');
    console.log(
      `| ${n} | ${r.states} | ${x(r.states, prev)} | ${r.complete ? 'yes' : 'NO'} | ${r.cpu.toFixed(2)} | ${l.states} | ${x(l.states, prevL)} | ${l.complete ? 'yes' : 'NO'} | ${l.rounds} | ${l.allTransitions} | ${l.cpu.toFixed(2)} | ${r.verdicts} / ${l.verdicts} |`,
    );
    prev = r.states;
    prevL = l.states;
  }
}

/**
 * `--dpor [MAX] [MIN] [BASE]`: DPOR and DPOR under the lockset reduction (states, transitions,
 * completeness, CPU, x per thread; the lockset's CPU over all rounds), each beside BASE's when given.
 */
function dporTable(max: number, min: number, base: string | null): void {
  console.log('\n### Scaled uffd-remap-vs-khugepaged / rfc-v2: DPOR and DPOR + lockset reduction\n');
  const cols = ['dpor', 'dpor+lockset'].flatMap((m) => (base ? [`base ${m}`, m] : [m]));
  console.log(`| N | ${cols.map((c) => `${c} states | trans | complete | cpu s | x per thread`).join(' | ')} | verdicts |`);
  console.log(`|---|${cols.map(() => '---|---|---|---|---|').join('')}---|`);
  const prev = new Map<string, number>();
  for (let n = min; n <= max; n++) {
    const cells: string[] = [];
    const verdicts = new Set<string>();
    for (const c of cols) {
      const mode = c.replace('base ', '');
      const f = c.startsWith('base ') ? baseMeasure(base as string, n, mode) : measure(n, mode.endsWith('lockset'), true);
      if (!f) {
        cells.push('- | - | - | - | -');
        continue;
      }
      const p = prev.get(c) ?? 0;
      cells.push(`${f.states} | ${f.transitions} | ${f.complete ? 'yes' : 'NO'} | ${f.cpu.toFixed(2)} | ${p && f.complete ? (f.states / p).toFixed(1) : '-'}`);
      prev.set(c, f.complete ? f.states : 0);
      verdicts.add(f.verdicts);
    }
    console.log(`| ${n} | ${cells.join(' | ')} | ${[...verdicts].join(' / ')} |`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
