/**
 * `node dist/bench/dpor.js [--json]` (also part of `npm run bench`): every catalogue variant
 * searched exhaustively three ways in one process: plain stateful DFS (no reduction), today's
 * sleep-set POR (the default order) and stateful source-set DPOR (src/explore/dpor.ts). Per
 * variant: distinct states, transitions, CPU ms (median of 3), verdict codes and completeness;
 * then the totals and ratios. DPOR's states are those of its last round; its transitions count
 * every round and any fall-back to plain DFS (marked `loop`: a loop that may be a livelock's).
 */
import { basename } from 'node:path';
import { World } from '../src/engine/world.js';
import { dfs, type DfsResult } from '../src/explore/dfs.js';
import type { DporResult } from '../src/explore/dpor.js';
import { buildModel } from '../src/scenario/build.js';
import { catalogueFiles } from '../src/scenario/catalogue.js';
import { loadScenarioFile } from '../src/scenario/load.js';

type Mode = 'dfs' | 'por' | 'dpor';

interface Figures {
  states: number;
  transitions: number;
  ms: number;
  verdicts: string;
  complete: boolean;
  note: string;
}

const cpuMs = (t0: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(2));

function once(model: ReturnType<typeof buildModel>, maxSteps: number, mode: Mode, rounds: number): Figures {
  const times: number[] = [];
  let r: DfsResult | undefined;
  for (let i = 0; i < rounds; i++) {
    const w = new World(model, null);
    const t0 = process.cpuUsage();
    r = dfs(w, { maxSteps, maxStates: 2_000_000, preemptions: Number.POSITIVE_INFINITY, deadline: Number.POSITIVE_INFINITY, por: mode === 'por', dpor: mode === 'dpor' });
    times.push(cpuMs(t0));
  }
  const res = r as DfsResult;
  const info = (res as Partial<DporResult>).dpor;
  const note = info ? `${info.fellBack ?? 'dpor'}${info.rounds > 1 ? ` x${info.rounds}` : ''}` : '';
  return {
    states: res.distinct,
    transitions: res.steps,
    ms: median(times),
    verdicts: [...new Set(res.findings.map((f) => f.verdict.code))].sort().join(',') || 'none',
    complete: res.complete,
    note,
  };
}

export interface DporRow {
  variant: string;
  dfs: Figures;
  por: Figures;
  dpor: Figures;
}

/** The three searches on every catalogue variant. */
export function dporBench(rounds = 3): DporRow[] {
  const rows: DporRow[] = [];
  for (const file of catalogueFiles()) {
    const sc = loadScenarioFile(file);
    const maxSteps = sc.spec.explore?.maxSteps ?? 2000;
    for (const v of Object.keys(sc.spec.variants)) {
      const model = buildModel(sc, v);
      rows.push({
        variant: `${basename(file).replace(/\.ya?ml$/, '')}/${v}`,
        dfs: once(model, maxSteps, 'dfs', rounds),
        por: once(model, maxSteps, 'por', rounds),
        dpor: once(model, maxSteps, 'dpor', rounds),
      });
    }
  }
  return rows;
}

export function dporTable(rows: DporRow[]): string {
  const out: string[] = [];
  out.push('| variant | dfs states | dfs trans | dfs ms | por trans | por ms | dpor states | dpor trans | dpor ms | dpor | trans ratio | verdicts | same |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const sum = { ds: 0, dt: 0, dm: 0, pt: 0, pm: 0, xs: 0, xt: 0, xm: 0, same: 0, fell: 0 };
  for (const r of rows) {
    const same = r.dfs.verdicts === r.dpor.verdicts && r.dfs.complete === r.dpor.complete;
    sum.ds += r.dfs.states;
    sum.dt += r.dfs.transitions;
    sum.dm += r.dfs.ms;
    sum.pt += r.por.transitions;
    sum.pm += r.por.ms;
    sum.xs += r.dpor.states;
    sum.xt += r.dpor.transitions;
    sum.xm += r.dpor.ms;
    if (same) sum.same++;
    if (r.dpor.note.startsWith('loop')) sum.fell++;
    out.push(
      `| ${r.variant} | ${r.dfs.states} | ${r.dfs.transitions} | ${fmt(r.dfs.ms)} | ${r.por.transitions} | ${fmt(r.por.ms)} | ${r.dpor.states} | ${r.dpor.transitions} | ${fmt(r.dpor.ms)} | ${r.dpor.note} | ${(r.dfs.transitions / Math.max(1, r.dpor.transitions)).toFixed(2)}x | ${r.dfs.verdicts}${r.dfs.complete ? '' : ' (incomplete)'} | ${same ? 'yes' : `NO: ${r.dpor.verdicts}`} |`,
    );
  }
  out.push('');
  out.push(
    `Total over ${rows.length} variants: transitions dfs ${sum.dt}, por ${sum.pt}, dpor ${sum.xt} (dfs/dpor ${(sum.dt / sum.xt).toFixed(2)}x, por/dpor ${(sum.pt / sum.xt).toFixed(2)}x); ` +
      `states dfs ${sum.ds}, dpor ${sum.xs} (${(sum.ds / sum.xs).toFixed(2)}x); CPU ms dfs ${fmt(sum.dm)}, por ${fmt(sum.pm)}, dpor ${fmt(sum.xm)}; ` +
      `per state (transitions) us: dfs ${((1000 * sum.dm) / sum.dt).toFixed(2)}, por ${((1000 * sum.pm) / sum.pt).toFixed(2)}, dpor ${((1000 * sum.xm) / sum.xt).toFixed(2)}; ` +
      `same verdicts and completeness: ${sum.same}/${rows.length}; fell back to DFS (loop edge): ${sum.fell}`,
  );
  return out.join('\n');
}

if (process.argv[1]?.endsWith('dpor.js')) {
  const rows = dporBench(Number(process.env.ROUNDS ?? 3));
  process.stdout.write(process.argv.includes('--json') ? `${JSON.stringify(rows, null, 1)}\n` : `${dporTable(rows)}\n`);
}
