/** The witnesses docs/udmabuf-pipeline.md and the README quote still replay to the verdicts they describe. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { protocolMermaid } from '../../machines/draw.js';
import { guestProtocol, vmmProtocol } from '../../machines/virtio-gpu.js';
import { decodeToken } from '../../src/explore/token.js';
import { model, replay } from '../kernel/mm-helpers.js';

const read = (...p: string[]) => readFileSync(join(import.meta.dirname, '..', '..', ...p), 'utf8');
const texts = [read('docs', 'udmabuf-pipeline.md'), read('README.md')].join('\n');

const expected: Record<string, RegExp> = {
  'udmabuf-rfc-update-mapping/rfc-as-posted': /^use-after-free: update_udmabuf takes a reference on freed folio \d+/,
  'udmabuf-pipeline/discard': /^stale page: gpu read 97 from udmabuf blob page 0 \(folio \d+\) via sg \(device DMA\); the guest's memory holds 98/,
};

describe('quoted replay commands', () => {
  const quoted = [...texts.matchAll(/mmsim replay (udmabuf-[a-z-]+) (v1\.[0-9a-z.]*) (?:\S+ )*?--variant ([a-z-]+)/g)];
  it('the docs quote the witnesses', () => {
    expect(new Set(quoted.map((q) => `${q[1]}/${q[3]}`))).toEqual(new Set(Object.keys(expected)));
  });
  for (const [, scenario, token, variant] of quoted) {
    it(`${scenario} ${token} --variant ${variant}`, () => {
      const t = replay(model(scenario as string, variant), decodeToken(token as string), 3000);
      expect(t.consumed).toBe(true);
      expect(t.w.verdict?.message).toMatch(expected[`${scenario}/${variant}`] as RegExp);
    });
  }
});

describe('the README draws the pipeline protocols as mmsim machines prints them', () => {
  for (const p of [guestProtocol, vmmProtocol]) {
    it(p.name, () => {
      expect(read('README.md')).toContain(`\`\`\`mermaid\n${protocolMermaid(p)}\`\`\``);
    });
  }
});
