#!/usr/bin/env node
/** `mmsim`: explore Linux MM concurrency scenarios. Bad input exits 2 with a message, never a stack trace. */
import './v8-tuning.js'; // first: V8 flags before any other module runs
import { TokenMismatch } from '../explore/replay.js';
import { BadToken } from '../explore/token.js';
import { catalogueDir, resolveScenario } from '../scenario/catalogue.js';
import { ScenarioError } from '../scenario/issues.js';
import { type Flags, UsageError } from './args.js';
import { check, exploreCmd, list, lockdep, machines, replay, schema } from './commands.js';
import { runProgram } from './program.js';
import { watchLoop } from './watch.js';

function dispatch(cmd: string, pos: string[], flags: Flags): number | Promise<number> {
  if (flags.watch) {
    const file = flags.all ? catalogueDir() : resolveScenario(pos[0] ?? '');
    if (!file) throw new UsageError(`--watch: no scenario file "${pos[0] ?? ''}" to watch`);
    return watchLoop([{ path: file, folder: flags.all === true }], () => run(cmd, pos, flags));
  }
  return run(cmd, pos, flags);
}

function run(cmd: string, pos: string[], flags: Flags): number | Promise<number> {
  switch (cmd) {
    case 'list':
      return list(flags);
    case 'check':
      return check(pos, flags);
    case 'explore':
      return exploreCmd(pos, flags);
    case 'replay':
      return replay(pos, flags);
    case 'lockdep':
      return lockdep(pos, flags);
    case 'machines':
      return machines(pos, flags);
    case 'schema':
      return schema(pos, flags);
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

/** A reader that went away (`mmsim list | head -1`) ends the output quietly, not with a stack. */
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });

runProgram(process.argv.slice(2), dispatch).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) process.stderr.write(`mmsim: ${e.message}\n(see \`mmsim --help\` or \`mmsim <command> --help\`)\n`);
    else if (e instanceof ScenarioError || e instanceof BadToken || e instanceof TokenMismatch) process.stderr.write(`mmsim: ${e.message}\n`);
    else {
      process.stderr.write(`mmsim: internal error: ${(e as Error)?.message ?? e}\n${process.env.MMSIM_DEBUG ? (e as Error)?.stack : '(set MMSIM_DEBUG=1 for the stack)'}\n`);
      process.exitCode = 3;
      return;
    }
    process.exitCode = 2;
  },
);
