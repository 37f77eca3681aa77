/** Scenario generators: families of scenarios with a size parameter, e.g. N dining philosophers. */
import type { ActorSpec, ScenarioSpec } from './schema.js';
import { registerSwitch } from './ops.js';
import { ScenarioError } from './issues.js';
import type { Scenario } from './load.js';

registerSwitch('ordered', 'philosophers: the last philosopher takes its forks in the opposite order (global lock order)');

/** Philosopher i takes fork i then fork i+1; with `ordered`, the last takes fork 0 first. */
export function philosophers(n: number, ordered: boolean): Pick<ScenarioSpec, 'locks' | 'actors'> {
  const locks: Record<string, { kind: 'mutex'; class: string }> = {};
  for (let i = 0; i < n; i++) locks[`fork${i}`] = { kind: 'mutex', class: `fork${i}` };
  const actors: ActorSpec[] = [];
  for (let i = 0; i < n; i++) {
    let first = `fork${i}`;
    let second = `fork${(i + 1) % n}`;
    if (ordered && i === n - 1) [first, second] = [second, first];
    actors.push({
      name: `phil${i}`,
      ops: [
        { op: 'lock', lock: first },
        { op: 'lock', lock: second },
        { op: 'unlock', lock: second },
        { op: 'unlock', lock: first },
      ],
    });
  }
  return { locks, actors };
}

/** Expand a `generate` section (if any) for the given switches. */
export function expand(spec: ScenarioSpec, switches: Readonly<Record<string, boolean>>): ScenarioSpec {
  if (!spec.generate) return spec;
  return { ...spec, ...philosophers(spec.generate.n, switches.ordered === true) };
}

/** Parameters a generated scenario accepts from the command line (`--param n=5`), with their ranges. */
const PARAMS: Record<string, [number, number]> = { n: [2, 12] };

/** The scenario with its generator's parameters overridden; throws ScenarioError for a bad one. */
export function withParams(sc: Scenario, params: Readonly<Record<string, number>>): Scenario {
  const keys = Object.keys(params);
  if (keys.length === 0) return sc;
  const gen = sc.spec.generate;
  if (!gen) throw new ScenarioError(sc.file, [{ path: 'generate', message: `--param needs a generated scenario (one with \`generate:\`); this one lists its actors` }]);
  for (const k of keys) {
    const range = PARAMS[k];
    const v = params[k] as number;
    if (!range) throw new ScenarioError(sc.file, [{ path: `generate.${k}`, message: `no generator parameter "${k}" (known: ${Object.keys(PARAMS).join(', ')})` }]);
    if (!Number.isInteger(v) || v < range[0] || v > range[1])
      throw new ScenarioError(sc.file, [{ path: `generate.${k}`, message: `expected an integer from ${range[0]} to ${range[1]}, found ${v}` }]);
  }
  return { ...sc, spec: { ...sc.spec, generate: { ...gen, ...params } } };
}
