/** `--watch` for check and explore: run, then run again whenever the scenario file changes, until Ctrl-C. */
import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { BadToken } from '../explore/token.js';
import { ScenarioError } from '../scenario/issues.js';
import { UsageError } from './args.js';

/** Errors a watched run reports and survives (the user is editing the file). */
const reported = (e: unknown) => e instanceof ScenarioError || e instanceof UsageError || e instanceof BadToken;

/**
 * Run `run` now and after each change of one of `files` (or of any file in a folder given as a
 * folder). Editors often replace a file rather than write it, so the folder is watched. Resolves 0
 * on SIGINT.
 */
export function watchLoop(files: readonly { path: string; folder: boolean }[], run: () => Promise<number> | number): Promise<number> {
  let running = false;
  let again = false;
  const once = async (why: string) => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    if (why) process.stderr.write(`\nmmsim: ${why} changed; running again\n`);
    try {
      const code = await run();
      process.stderr.write(`mmsim: exit code ${code}; watching for changes (Ctrl-C to stop)\n`);
    } catch (e) {
      if (!reported(e)) throw e;
      process.stderr.write(`mmsim: ${(e as Error).message}\nmmsim: watching for changes (Ctrl-C to stop)\n`);
    }
    running = false;
    if (again) {
      again = false;
      await once('a file');
    }
  };
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const watchers = files.map((f) =>
      watch(f.folder ? f.path : dirname(f.path), (_ev, name) => {
        if (!f.folder && name !== basename(f.path)) return;
        clearTimeout(timer);
        timer = setTimeout(() => once(f.folder ? `${f.path}/${name}` : f.path).catch(reject), 150);
      }),
    );
    process.once('SIGINT', () => {
      clearTimeout(timer);
      for (const w of watchers) w.close();
      resolve(0);
    });
    once('').catch(reject);
  });
}
