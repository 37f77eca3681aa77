/** Typed messages: the compiler rejects a misspelt field, a missing field and an unknown message name. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

describe('protocol message types', () => {
  it('tsc accepts a well-formed message and rejects the bad ones', () => {
    const dir = mkdtempSync(join(root, 'dist', 'typecheck-'));
    const rpc = join(root, 'machines', 'rpc.js').replace(/\\/g, '/');
    writeFileSync(
      join(dir, 'snippet.ts'),
      [
        `import type { RpcMessage } from '${rpc}';`,
        `export const ok: RpcMessage = { type: 'Reply', id: 1, status: 0 };`,
        `export const misspelt: RpcMessage = { type: 'Reply', id: 1, stauts: 0 };`,
        `export const missing: RpcMessage = { type: 'Request', id: 1 };`,
        `export const unknown: RpcMessage = { type: 'Replies', id: 1, status: 0 };`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', noEmit: true, skipLibCheck: true, types: [] }, files: ['snippet.ts'] }));
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    const errors = r.stdout.split('\n').filter((l) => /snippet\.ts\(\d+,\d+\): error/.test(l)).map((l) => Number(/\((\d+),/.exec(l)?.[1]));
    expect([...new Set(errors)]).toEqual([3, 4, 5]);
  });
});
