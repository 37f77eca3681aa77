/** Scenario generators: families of scenarios with a size parameter, e.g. N dining philosophers. */
import type { ActorSpec, ScenarioSpec } from './schema.js';
import { registerSwitch } from './ops.js';

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
