/** Shared helpers for the scenario tests: the catalogue, and capturing a ScenarioError. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { ScenarioError, type Problem } from '../../src/scenario/issues.js';
import { parseScenario } from '../../src/scenario/load.js';

/** The catalogue folder, scenarios/. */
export const SCENARIOS = fileURLToPath(new URL('../../scenarios/', import.meta.url));

/** Every catalogue file, found by listing the folder. */
export const catalogue: { name: string; path: string; text: string }[] = readdirSync(SCENARIOS)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .sort()
  .map((name) => ({ name, path: join(SCENARIOS, name), text: readFileSync(join(SCENARIOS, name), 'utf8') }));

/** Parse text that must be rejected; returns the ScenarioError's problems. */
export function problems(text: string, file = 'test.yaml'): readonly Problem[] {
  try {
    parseScenario(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as ScenarioError).problems;
  }
  throw new Error(`expected ${file} to be rejected:\n${text}`);
}

/** The single problem at `path` (fails the test if there is none). */
export function problemAt(ps: readonly Problem[], path: string): Problem {
  const p = ps.find((x) => x.path === path);
  if (!p) throw new Error(`no problem at ${path}; got:\n${ps.map((x) => `${x.path}: ${x.message}`).join('\n')}`);
  return p;
}

/** A minimal valid scenario with the given actors section (YAML lines, indented by two). */
export function withActors(actors: string, extra = ''): string {
  return `name: t\ndescription: d\nlocks:\n  A: { kind: mutex }\n  B: { kind: mutex }\nactors:\n${actors}\nvariants:\n  default:\n    expect: []\n${extra}`;
}
