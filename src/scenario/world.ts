/**
 * The `world` section of a scenario: processes, VMAs, memfds. PLACEHOLDER until the MM model
 * (src/kernel) lands: it accepts no keys, and builds nothing.
 */
import { Schema } from 'effect';
import type { ModelBuilder } from '../engine/model.js';
import type { RefKind } from './ops.js';

export const WorldSpec = Schema.Struct({});
export type WorldSpec = typeof WorldSpec.Type;

/** Names the world declares, by kind (for cross-reference checks). */
export function worldNames(_w: WorldSpec): Partial<Record<RefKind, string[]>> {
  return {};
}

/** Build the kernel objects into the model; returns name → id maps by kind. */
export function buildWorld(_b: ModelBuilder, _w: WorldSpec): Partial<Record<RefKind, Map<string, number>>> {
  return {};
}
