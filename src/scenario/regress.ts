/**
 * Regressions as data: explore one catalogue variant as `mmsim explore` does (the scenario's own
 * strategy and budgets, one worker) and measure its DFS exactly, for the pinned counts in the
 * scenario file (`dfs: { states, transitions }`). The catalogue test checks them; `npm run pin` writes them.
 */
import { DEFAULTS, explore, type ExploreOptions, type ExploreResult, frontier, type StrategyName } from '../explore/explore.js';
import { FingerprintSet } from '../explore/visited.js';
import { inlineRunner } from '../explore/pool.js';
import { runTask } from '../explore/task.js';
import { buildModel } from './build.js';
import type { Scenario } from './load.js';
import { isMap, type Node, parseDocument, type YAMLMap } from 'yaml';
import type { DfsCounts } from './schema.js';

export interface VariantRun {
  readonly result: ExploreResult;
  /** The DFS phase's counts (null when the strategy runs no DFS). */
  readonly dfs: DfsCounts | null;
}

/** The exploration options a scenario file asks for (without a time budget: counts must not depend on speed). */
export function scenarioOptions(sc: Scenario): ExploreOptions {
  const e = sc.spec.explore ?? {};
  return {
    ...DEFAULTS,
    strategy: (e.strategy ?? DEFAULTS.strategy) as StrategyName,
    seed: e.seed ?? DEFAULTS.seed,
    runs: e.runs ?? DEFAULTS.runs,
    maxSteps: e.maxSteps ?? DEFAULTS.maxSteps,
    maxStates: e.maxStates ?? DEFAULTS.maxStates,
    depth: e.depth ?? DEFAULTS.depth,
    preemptions: e.preemptions ?? DEFAULTS.preemptions,
    lockset: e.reduce === 'lockset',
  };
}

/** Explore `variant` of `sc` inline; the DFS task's distinct states and steps are its pinned counts. */
export async function runVariant(sc: Scenario, variant: string): Promise<VariantRun> {
  const model = buildModel(sc, variant);
  const v = sc.spec.variants[variant];
  const opts = scenarioOptions(sc);
  // The DFS's states are those on the forced path to its first branch point (the frontier, which the
  // tasks start from) and those the tasks visit; its transitions are the tasks' steps.
  const states = new FingerprintSet();
  let transitions = -1;
  const runner = inlineRunner((task) => {
    const r = runTask(model, task);
    if (task.kind === 'dfs') {
      if (transitions < 0) {
        frontier(model, opts.split, opts.maxSteps, states);
        transitions = 0;
      }
      for (let i = 0; i < r.fingerprints.length; i += 2) states.add(r.fingerprints[i] as number, r.fingerprints[i + 1] as number);
      transitions += r.steps;
    }
    return r;
  });
  const target = { file: sc.file, variant, model, expected: v?.expect ?? [], mustComplete: v?.complete === true };
  const result = await explore(target, opts, runner);
  return { result, dfs: transitions < 0 ? null : { states: states.size, transitions } };
}

/** One splice of a file's text. */
interface Edit {
  readonly at: number;
  readonly end: number;
  readonly text: string;
}

/**
 * `text` with `variants.<variant>.dfs` set to `counts`. The YAML Document API locates the node; the
 * text is spliced only there, so comments, folding and flow style elsewhere stay byte for byte.
 */
export function pinEdit(text: string, file: string, variant: string, counts: DfsCounts): string {
  const e = edit(text, file, variant, counts);
  return text.slice(0, e.at) + e.text + text.slice(e.end);
}

function edit(text: string, file: string, variant: string, counts: DfsCounts): Edit {
  const doc = parseDocument(text);
  const map = doc.getIn(['variants', variant], true);
  if (!isMap(map)) throw new Error(`${file}: variants.${variant} is not a map`);
  const v = map as YAMLMap<Node, Node>;
  const flow = `{ states: ${counts.states}, transitions: ${counts.transitions} }`;
  const old = v.get('dfs', true) as Node | undefined;
  if (old?.range) return { at: old.range[0], end: old.range[1], text: flow };
  const range = v.range as [number, number, number];
  if (v.flow) {
    let at = text.lastIndexOf('}', range[1]);
    while (at > 0 && /\s/.test(text[at - 1] as string)) at--;
    return { at, end: at, text: `${v.items.length ? ', ' : ''}dfs: ${flow}` };
  }
  const first = v.items[0]?.key as Node;
  const last = v.items[v.items.length - 1]?.value as Node;
  const keyAt = (first.range as [number, number, number])[0];
  const indent = ' '.repeat(keyAt - text.lastIndexOf('\n', keyAt) - 1);
  const valueEnd = (last.range as [number, number, number])[1];
  let at = text[valueEnd - 1] === '\n' ? valueEnd - 1 : text.indexOf('\n', valueEnd);
  if (at < 0) at = text.length;
  return { at, end: at, text: `\n${indent}dfs: ${flow}` };
}

