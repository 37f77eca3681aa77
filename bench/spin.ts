/**
 * `node dist/bench/spin.js [MAX_THREADS] [mixed|same|bug]` (and the last part of `npm run bench`): the scaled
 * remap-vs-khugepaged race with 0..MAX_THREADS (default 4) faulting threads, mmsim's DFS beside Spin
 * on the Promela model of the same race at the same granularity (bench/promela/remap-vs-khugepaged.pml,
 * `spin -DNFAULT=N -a`, `gcc -O2 -DSAFETY`, `./pan`). Per N and side: states, transitions, time to
 * verdict (the whole process: node start-up and model build, or spin + gcc + pan) and time to prove
 * (the search alone), for rfc-v2 (no bug: a proof); the same with every thread loading page 1, where
 * mmsim's `symmetric: auto` applies (Spin: -DSAMEPAGE); then the time to the first bug of the variant
 * khugepaged-mmap-read (-DKHUGEPAGED_MMAP_READ; mmsim's DFS goes on after it for the other verdicts,
 * pan stops at the first). A side stops at BUDGET_S seconds (default 60); mmsim also at BUDGET_STATES
 * states (default 15M) and pan at a memory cap of that many 160-byte states (pan has no state
 * bound; its states are smaller, so it may store more); the row then says so. Without `spin` or `gcc` on PATH it prints one line and exits 0.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { World } from '../src/engine/world.js';
import { dfs } from '../src/explore/dfs.js';
import { buildModel } from '../src/scenario/build.js';
import { parseScenario } from '../src/scenario/load.js';
import { scenario } from './faulting.js';

const BUDGET_S = Number(process.env.BUDGET_S ?? 60);
const BUDGET_STATES = Number(process.env.BUDGET_STATES ?? 15_000_000);
const MODEL = fileURLToPath(new URL('../../bench/promela/remap-vs-khugepaged.pml', import.meta.url));

/** One side's figures for one N: counts, search ms, whole-process ms, what stopped it, verdict. */
interface Side {
  states: number;
  transitions: number;
  proveMs: number;
  wholeMs: number;
  stopped: string | null;
  verdict: string;
}

/** pan's memory cap: BUDGET_STATES states of 160 bytes (a < 128-byte vector plus hash-table overhead). */
const memLimitMb = (): number => Math.ceil((BUDGET_STATES * 160) / 2 ** 20);

const onPath = (cmd: string, arg: string): boolean => spawnSync(cmd, [arg], { encoding: 'utf8' }).status === 0;

/** How the faulting threads are made: pages 1 + i % 3; all page 1; all page 1 and `symmetric: auto`. */
type Shape = 'mixed' | 'same' | 'symmetric';

/** The scaled scenario of `faulting.ts` in the given shape. */
function text(n: number, shape: Shape): string {
  if (shape === 'mixed') return scenario(n);
  const same = scenario(n).replace(/page: \d+ \}/g, 'page: 1 }');
  return shape === 'same' ? same : `${same}symmetric: auto\n`;
}

/** In a child process: one DFS (with `dpor`, DPOR) of the scaled scenario; JSON on stdout. */
function mmsimChild(n: number, variant: string, shape: Shape, dpor: boolean): void {
  const model = buildModel(parseScenario(text(n, shape), 'faulting.yaml'), variant);
  const w = new World(model, null);
  const t0 = performance.now();
  const r = dfs(w, { maxSteps: 2000, maxStates: BUDGET_STATES, preemptions: Number.POSITIVE_INFINITY, deadline: Date.now() + BUDGET_S * 1000, dpor });
  const proveMs = performance.now() - t0;
  const first = r.findings.length ? Math.min(...r.findings.map((f) => f.atMs)) : null;
  const verdict = [...new Set(r.findings.map((f) => f.verdict.code))].sort().join(',') || 'none';
  process.stdout.write(JSON.stringify({ states: r.distinct, transitions: r.steps, proveMs: first ?? proveMs, stopped: r.complete || first !== null ? null : r.stoppedBy, verdict }));
}

function mmsim(n: number, variant: string, shape: Shape = 'mixed', dpor = false): Side {
  const t0 = performance.now();
  const args = ['--max-old-space-size=4096', fileURLToPath(import.meta.url), '--mmsim', String(n), variant, shape, dpor ? 'dpor' : 'dfs'];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const wholeMs = performance.now() - t0;
  if (r.status !== 0) return { states: 0, transitions: 0, proveMs: 0, wholeMs, stopped: `failed: ${r.stderr.split('\n')[0]}`, verdict: '-' };
  return { ...(JSON.parse(r.stdout) as Omit<Side, 'wholeMs'>), wholeMs };
}

/** spin -a, gcc, pan in a fresh directory; pan's figures parsed from its report. */
function spin(n: number, defines: string[]): Side {
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-spin-'));
  try {
    const t0 = performance.now();
    const gen = spawnSync('spin', [`-DNFAULT=${n}`, ...defines, '-a', MODEL], { cwd: dir, encoding: 'utf8' });
    if (gen.status !== 0) throw new Error(`spin -a failed: ${gen.stdout}${gen.stderr}`);
    const memMb = memLimitMb();
    const cc = spawnSync('gcc', ['-O2', '-DSAFETY', '-DVECTORSZ=1024', `-DMEMLIM=${memMb}`, '-o', 'pan', 'pan.c'], { cwd: dir, encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc failed: ${cc.stderr}`);
    const pan = spawnSync('./pan', ['-m100000', '-w26'], { cwd: dir, encoding: 'utf8', timeout: BUDGET_S * 1000, killSignal: 'SIGINT' });
    const wholeMs = performance.now() - t0;
    const out = pan.stdout ?? '';
    const num = (re: RegExp): number => Number(out.match(re)?.[1] ?? 0);
    const states = num(/(\d+) states, stored/);
    const timedOut = pan.signal !== null || pan.error !== undefined;
    const outOfMemory = /out of memory/.test(out);
    const errors = num(/errors: (\d+)/);
    const stopped = timedOut ? `${BUDGET_S} s` : outOfMemory ? `memory (${memMb} MB)` : null;
    return {
      states,
      transitions: num(/(\d+) transitions/),
      proveMs: num(/elapsed time ([\d.e+-]+) seconds/) * 1000,
      wholeMs,
      stopped,
      verdict: errors > 0 ? `assert ${out.match(/assertion violated (\S+)/)?.[1] ?? 'error'}` : stopped ? '-' : 'none',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`);
const cell = (s: Side): string => `${s.states || '-'}${s.stopped ? ` (stopped: ${s.stopped})` : ''} | ${s.transitions} | ${ms(s.wholeMs)} | ${ms(s.proveMs)}`;

/** Pages 1 + i % 3: mmsim's DFS (default order), mmsim's DPOR and Spin side by side, with growth per added thread. */
function mixedTable(max: number): void {
  console.log('| N | mmsim states | mmsim trans | mmsim verdict | mmsim prove | DPOR states | DPOR trans | DPOR verdict | DPOR prove | spin states | spin trans | spin verdict | spin prove | states mmsim/spin, DPOR/spin | x per thread mmsim / DPOR / spin |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const sides: [string, (n: number) => Side][] = [
    ['dfs', (n) => mmsim(n, 'rfc-v2')],
    ['dpor', (n) => mmsim(n, 'rfc-v2', 'mixed', true)],
    ['spin', (n) => spin(n, [])],
  ];
  const stopped = new Set<string>();
  let prev: (Side | null)[] = [];
  for (let n = 0; n <= max; n++) {
    const row = sides.map(([k, run]) => (stopped.has(k) ? null : run(n)));
    sides.forEach(([k], i) => {
      const x = row[i];
      if (!x || x.stopped !== null) stopped.add(k);
    });
    const done = (x: Side | null | undefined): x is Side => !!x && x.stopped === null;
    const [m, d, s] = row;
    const ratio = (x: Side | null | undefined) => (done(x) && done(s) ? `${(x.states / s.states).toFixed(2)}x` : '-');
    const growth = row.map((x, i) => (done(x) && done(prev[i]) ? (x.states / (prev[i] as Side).states).toFixed(1) : '-')).join(' / ');
    const c = (x: Side | null | undefined) => (x ? cell(x) : 'not run (budget hit at a smaller N) | | |');
    console.log(`| ${n} | ${c(m)} | ${c(d)} | ${c(s)} | ${ratio(m)}, ${ratio(d)} | ${growth} |`);
    prev = row;
  }
}

/** Every thread on page 1: mmsim without and with `symmetric: auto`, and Spin (-DSAMEPAGE). */
function samePageTable(max: number): void {
  console.log('| N | mmsim states | mmsim prove | symmetric states | symmetric prove | spin states | spin prove | x per thread plain / symmetric / spin |');
  console.log('|---|---|---|---|---|---|---|---|');
  const stopped = { plain: false, sym: false, spin: false };
  let last: [number, number, number] | null = null;
  for (let n = 0; n <= max; n++) {
    const p: Side | null = stopped.plain ? null : mmsim(n, 'rfc-v2', 'same');
    const y: Side | null = stopped.sym ? null : mmsim(n, 'rfc-v2', 'symmetric');
    const s: Side | null = stopped.spin ? null : spin(n, ['-DSAMEPAGE']);
    const c = (x: Side | null) => (x ? `${x.states || '-'}${x.stopped ? ` (stopped: ${x.stopped})` : ''} | ${ms(x.proveMs)}` : 'not run | ');
    const g = (x: Side | null, i: number) => (x && !x.stopped && last ? (x.states / (last[i] as number)).toFixed(1) : '-');
    console.log(`| ${n} | ${c(p)} | ${c(y)} | ${c(s)} | ${g(p, 0)} / ${g(y, 1)} / ${g(s, 2)} |`);
    last = [p?.states ?? 0, y?.states ?? 0, s?.states ?? 0];
    stopped.plain ||= !p || p.stopped !== null;
    stopped.sym ||= !y || y.stopped !== null;
    stopped.spin ||= !s || s.stopped !== null;
  }
}

/** khugepaged-mmap-read: the time to the first bug on each side. */
function bugTable(max: number): void {
  console.log('| N | mmsim verdicts | mmsim states | mmsim whole | mmsim first bug | spin verdict | spin states | spin whole | spin first bug |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const n of [0, Math.min(1, max)]) {
    const m = mmsim(n, 'khugepaged-mmap-read');
    const s = spin(n, ['-DKHUGEPAGED_MMAP_READ']);
    console.log(`| ${n} | ${m.verdict} | ${m.states} | ${ms(m.wholeMs)} | ${ms(m.proveMs)} | ${s.verdict} | ${s.states} | ${ms(s.wholeMs)} | ${ms(s.proveMs)} |`);
  }
}

/** The side-by-side tables (markdown; `only` one of mixed, same, bug), or one line when spin or gcc is missing. */
export function spinBench(max = 4, only?: string): void {
  if (!onPath('spin', '-V') || !onPath('gcc', '--version')) {
    console.log('\nSpin bench skipped: `spin` and `gcc` must be on PATH (Debian: apt-get install spin gcc).');
    return;
  }
  const version = spawnSync('spin', ['-V'], { encoding: 'utf8' }).stdout.trim();
  console.log(`\n### Scaled uffd-remap-vs-khugepaged / rfc-v2 with N faulting threads: mmsim DFS beside ${version}\n`);
  console.log(`Budget per side: ${BUDGET_S} s; mmsim ${BUDGET_STATES} states, pan ${memLimitMb()} MB. Verdict = whole process; prove = the search alone.\n`);
  if (!only || only === 'mixed') mixedTable(max);
  if (!only || only === 'same') {
    console.log('\n### The same with every faulting thread loading page 1 (-DSAMEPAGE): mmsim plain, mmsim with `symmetric: auto`, Spin\n');
    samePageTable(max);
  }
  if (!only || only === 'bug') {
    console.log('\n### khugepaged-mmap-read (collapse under mmap_read_lock; -DKHUGEPAGED_MMAP_READ): time to the first bug\n');
    bugTable(max);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv[2] === '--mmsim') mmsimChild(Number(process.argv[3]), process.argv[4] ?? 'rfc-v2', (process.argv[5] ?? 'mixed') as Shape, process.argv[6] === 'dpor');
  else spinBench(Number(process.argv[2] ?? 4), process.argv[3]);
}
