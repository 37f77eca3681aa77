/**
 * The README works as written: every YAML block is a valid scenario (written to the file its first
 * comment names, or `<name>.yaml`), and every `mmsim` command in it runs, in a scratch folder with
 * those files, and exits 0. Commands that are not mmsim's (npm ci, npm test) are CI's own steps.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** Fenced ```yaml blocks. */
const yamlBlocks = [...readme.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);

/** `npx mmsim ...` / `mmsim ...` lines of indented code blocks, without their trailing comments. */
const commands = readme
  .split('\n')
  .filter((l) => /^ {4}(npx )?mmsim /.test(l))
  .map((l) => l.trim().replace(/^npx /, '').replace(/\s{2,}#.*$/, ''));

describe('README', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-readme-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'mmsim'), `#!/bin/sh\nexec "${process.execPath}" "${join(root, 'dist/src/cli/main.js')}" "$@"\n`);
  chmodSync(join(bin, 'mmsim'), 0o755);
  const sh = (cmd: string) => spawnSync('bash', ['-c', cmd], { cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });

  it('has YAML blocks and mmsim commands to run', () => {
    expect(yamlBlocks.length).toBeGreaterThanOrEqual(2);
    expect(commands.length).toBeGreaterThanOrEqual(10);
  });

  it('every YAML block is a valid scenario that explores as it expects', () => {
    for (const y of yamlBlocks) {
      const named = /^# ([\w.-]+\.ya?ml)\s*$/m.exec(y.split('\n')[0] as string)?.[1];
      const file = named ?? `${(parse(y) as { name: string }).name}.yaml`;
      writeFileSync(join(dir, file), y);
      const c = sh(`mmsim check ${file}`);
      expect(c.status, `${file}: ${c.stderr}`).toBe(0);
      expect(c.stderr, file).toBe('');
      const e = sh(`mmsim explore ${file}`);
      expect(e.status, `${file}: ${e.stdout}${e.stderr}`).toBe(0);
    }
  });

  it('every mmsim command runs and exits 0', () => {
    for (const cmd of commands) {
      const r = sh(cmd);
      expect(r.status, `${cmd}\n${r.stderr}`).toBe(0);
      expect(r.stderr, cmd).not.toMatch(/\n\s+at .+:\d+:\d+/);
    }
  }, 240_000);
});
