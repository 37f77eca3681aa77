/** The worker's model cache: one load per file version, one build per variant, and an edited file is seen. */
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelFor } from '../../src/cli/worker.js';

const scenario = (threads: number) =>
  `name: cache-probe\ndescription: probe\nlocks:\n  a: { kind: mutex }\nactors:\n${Array.from({ length: threads }, (_, i) => `  - name: t${i}\n    ops:\n      - { op: lock, lock: a }\n      - { op: unlock, lock: a }\n`).join('')}variants:\n  default: { expect: [] }\n  other: { expect: [] }\n`;

describe('modelFor', () => {
  it('builds a variant once and rebuilds after the file is edited', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mmsim-cache-')), 'probe.yaml');
    writeFileSync(file, scenario(2));
    utimesSync(file, 1000, 1000);
    const first = modelFor(file, 'default');
    expect(modelFor(file, 'default')).toBe(first);
    expect(modelFor(file, 'other')).not.toBe(first);
    expect(first.threads.length).toBe(2);
    writeFileSync(file, scenario(3));
    utimesSync(file, 2000, 2000);
    const edited = modelFor(file, 'default');
    expect(edited).not.toBe(first);
    expect(edited.threads.length).toBe(3);
  });
});
