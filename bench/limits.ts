/**
 * Limits, timed (`npm run bench`, or alone: `node dist/bench/limits.js`): a 1 MB scenario file of
 * unknown keys rejected by `mmsim check`, the 163-character token bomb refused by `mmsim replay`
 * (each a fresh process, best of 3, exit code checked), and merging a 2.5M-state set.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FingerprintSet } from '../src/explore/visited.js';
import { loadScenarioFile } from '../src/scenario/load.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** A valid scenario followed by unknown top-level keys up to `bytes` bytes. */
function unknownKeysFile(bytes: number): string {
  let s = 'name: big\ndescription: x\nlocks: { A: { kind: mutex } }\nactors: [ { name: T0, ops: [ { op: lock, lock: A }, { op: unlock, lock: A } ] } ]\nvariants: { default: { expect: [] } }\n';
  for (let i = 0; s.length < bytes; i++) s += `unknown_key_number_${i}: 1\n`;
  const f = join(mkdtempSync(join(tmpdir(), 'mmsim-limits-')), 'unknown-keys.yaml');
  writeFileSync(f, s);
  return f;
}

function timed(args: string[]): { ms: number; code: number | null } {
  let ms = Number.POSITIVE_INFINITY;
  let code: number | null = null;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    code = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' }).status;
    ms = Math.min(ms, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { ms: Math.round(ms), code };
}

function mergeMs(n: number): { ms: number; probesPerEntry: number } {
  const src = new FingerprintSet();
  let x = 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  for (let i = 0; i < n; i++) src.add(next(), next());
  const packed = src.entries();
  const into = new FingerprintSet();
  const t0 = process.hrtime.bigint();
  into.addAll(packed);
  return { ms: Math.round(Number(process.hrtime.bigint() - t0) / 1e6), probesPerEntry: into.mergeProbes / n };
}

export function limitsBench(): void {
  console.log('\n| limit | measured | exit |');
  console.log('|---|---|---|');
  const big = unknownKeysFile(1_000_000);
  const c = timed(['check', big]);
  console.log(`| \`mmsim check\` of a 1 MB file of ~36k unknown keys (whole process) | ${c.ms} ms | ${c.code} |`);
  let load = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    try {
      loadScenarioFile(big);
    } catch {}
    load = Math.min(load, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(`| the same file through loadScenarioFile (read, parse, validate, locate; in process) | ${Math.round(load)} ms | - |`);
  const b = timed(['replay', 'abba', `v1.${'0.5yc1s.'.repeat(20)}`]);
  console.log(`| \`mmsim replay\` of the 163-character token bomb (whole process) | ${b.ms} ms | ${b.code} |`);
  const m = mergeMs(2_500_000);
  console.log(`| merge of a 2.5M-state worker set into the coordinator's | ${m.ms} ms (${m.probesPerEntry.toFixed(2)} probes/entry) | - |`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) limitsBench();
