/** The built-in catalogue: the scenario files in scenarios/ at the package root, found by name. */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (the nearest folder above this file with a package.json). */
export function packageRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('mmsim: package root not found');
    d = up;
  }
  return d;
}

export function catalogueDir(): string {
  return join(packageRoot(), 'scenarios');
}

/** Catalogue files, sorted by name. */
export function catalogueFiles(): string[] {
  return readdirSync(catalogueDir())
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => join(catalogueDir(), f));
}

/** A path to an existing file, or the catalogue file of that name; null if neither. */
export function resolveScenario(arg: string): string | null {
  if (existsSync(arg) && /\.(ya?ml|json)$/.test(arg)) return resolve(arg);
  for (const ext of ['.yaml', '.yml', '.json']) {
    const f = join(catalogueDir(), `${arg}${ext}`);
    if (existsSync(f)) return f;
  }
  return null;
}
