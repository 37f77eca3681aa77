import type { RegionDef } from './region.js';

/**
 * The shape of a world's shared memory: named regions of an Int32Array.
 * Kernel objects, lock state and thread status all live in one flat array so that a world
 * clones with one copy, hashes incrementally, and crosses to a worker as bytes.
 */
export interface Region {
  readonly name: string;
  readonly base: number;
  readonly count: number;
  readonly stride: number;
  readonly fields: readonly string[];
  /** The declaration it was made from (regions declared with `add`). */
  readonly def?: RegionDef;
}

export class Layout {
  private size = 0;
  readonly regions: Region[] = [];
  readonly init: number[] = [];

  /** Reserve `count` records of the named fields; returns the base slot. */
  region(name: string, count: number, fields: readonly string[]): number {
    const base = this.size;
    this.regions.push({ name, base, count, stride: fields.length, fields });
    this.size += count * fields.length;
    for (let i = base; i < this.size; i++) this.init.push(0);
    return base;
  }

  /** Reserve `count` records of a declared region (named `name`, by default the region's); returns the base slot. */
  add(def: RegionDef, count: number, name = def.name): number {
    const base = this.size;
    this.regions.push({ name, base, count, stride: def.stride, fields: def.names, def });
    this.size += count * def.stride;
    for (let i = base; i < this.size; i++) this.init.push(0);
    return base;
  }

  /** Set the initial value of one slot. */
  initial(slot: number, v: number): void {
    this.init[slot] = v;
  }

  get length(): number {
    return this.size;
  }

  /** Name a slot for diffs and error messages, e.g. `folio[2].refcount`. */
  nameOf(slot: number): string {
    for (const r of this.regions) {
      if (slot >= r.base && slot < r.base + r.count * r.stride) {
        const rel = slot - r.base;
        return `${r.name}[${Math.floor(rel / r.stride)}].${r.fields[rel % r.stride]}`;
      }
    }
    return `mem[${slot}]`;
  }
}
