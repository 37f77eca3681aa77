/**
 * `node dist/bench/faulting.js [BASE|-] [MAX_THREADS] [MIN_THREADS]`: the scaled remap-vs-khugepaged proof
 * (uffd-remap-vs-khugepaged / rfc-v2, RFC v2 UFFDIO_REMAP against khugepaged under mmap_lock write)
 * with 0..MAX_THREADS (default 4) extra threads each faulting one page of src (pages 1..3 in turn),
 * DFS with the default order: distinct states, transitions, completeness and CPU seconds; with BASE
 * (another built checkout) that build's numbers beside, from the same run. A search stops at 3M (MAX_STATES)
 * states or 60 s (DEADLINE_MS; then it is reported incomplete). Markdown on stdout.
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const MAX_STATES = Number(process.env.MAX_STATES ?? 3_000_000);
const DEADLINE_MS = Number(process.env.DEADLINE_MS ?? 60_000);

function scenario(faulting: number): string {
  const actors = Array.from({ length: faulting }, (_, i) => `  - name: fault${i}\n    mm: P\n    ops:\n      - { op: read, vma: src, page: ${1 + (i % 3)} }\n`).join('');
  return `name: remap-vs-khugepaged-${faulting}\ndescription: bench\nworld:\n  mms:\n    P:\n      vmas:\n        src: { pages: 4, populated: [0] }\n        dst: { pages: 4, uffd: [missing] }\nactors:\n  - name: mover\n    mm: P\n    ops:\n      - { op: uffdio_remap, dst: dst, src: src, pages: 1 }\n  - name: khugepaged\n    mm: P\n    ops:\n      - { op: khugepaged_anon, vma: src }\n${actors}variants:\n  rfc-v2: { expect: [], complete: true }\n`;
}

async function measure(root: string, faulting: number) {
  const m = async (p: string) => import(pathToFileURL(join(root, 'dist', p)).href);
  const [{ World }, { dfs }, { buildModel }, { parseScenario }] = await Promise.all(['src/engine/world.js', 'src/explore/dfs.js', 'src/scenario/build.js', 'src/scenario/load.js'].map(m));
  const model = buildModel(parseScenario(scenario(faulting), 'faulting.yaml'), 'rfc-v2');
  const w = new World(model, null);
  const t0 = process.cpuUsage();
  const wall = Date.now();
  const r = dfs(w, { maxSteps: 2000, maxStates: MAX_STATES, preemptions: Number.POSITIVE_INFINITY, deadline: wall + DEADLINE_MS });
  const d = process.cpuUsage(t0);
  const verdicts = [...new Set((r.findings as { verdict: { code: string } }[]).map((f) => f.verdict.code))].join(',') || 'none';
  return { states: r.distinct as number, transitions: r.steps as number, complete: r.complete as boolean, cpu: (d.user + d.system) / 1e6, verdicts };
}

async function main(): Promise<void> {
  const here = resolve(import.meta.dirname, '..', '..');
  const base = process.argv[2] && process.argv[2] !== '-' ? resolve(process.argv[2]) : null;
  const max = Number(process.argv[3] ?? 4);
  console.log('\n### Scaled uffd-remap-vs-khugepaged / rfc-v2 with N faulting threads (DFS, default order)\n');
  console.log(`| N | ${base ? 'base states | base trans | base complete | base cpu s | ' : ''}states | trans | complete | cpu s | x per thread | verdicts |`);
  console.log(`|---|${base ? '---|---|---|---|' : ''}---|---|---|---|---|---|`);
  let prev = 0;
  for (let n = Number(process.argv[4] ?? 0); n <= max; n++) {
    const b = base ? await measure(base, n) : null;
    const r = await measure(here, n);
    const bcol = b ? `${b.states} | ${b.transitions} | ${b.complete ? 'yes' : 'NO'} | ${b.cpu.toFixed(2)} | ` : '';
    console.log(`| ${n} | ${bcol}${r.states} | ${r.transitions} | ${r.complete ? 'yes' : 'NO'} | ${r.cpu.toFixed(2)} | ${prev ? (r.states / prev).toFixed(1) : '-'} | ${r.verdicts} |`);
    prev = r.states;
  }
  console.log('\nSpin: not run (no Promela model in this bench yet).');
}

await main();
