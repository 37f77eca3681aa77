#!/usr/bin/env node
/** `mmsim`: explore Linux MM concurrency scenarios. Bad input exits 2 with a message, never a stack trace. */
import { TokenMismatch } from '../explore/replay.js';
import { BadToken } from '../explore/token.js';
import { ScenarioError } from '../scenario/issues.js';
import { parse, USAGE, UsageError } from './args.js';
import { check, exploreCmd, list, lockdep, machines, replay } from './commands.js';

async function main(argv: string[]): Promise<number> {
  const { cmd, pos, flags } = parse(argv);
  if (flags.help || cmd === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return cmd === 'help' && !flags.help && argv.length > 0 ? 2 : 0;
  }
  switch (cmd) {
    case 'list':
      return list(flags);
    case 'check':
      return check(pos);
    case 'explore':
      return exploreCmd(pos, flags);
    case 'replay':
      return replay(pos, flags);
    case 'lockdep':
      return lockdep(pos, flags);
    case 'machines':
      return machines(pos, flags);
    case 'schema': {
      const { scenarioJsonSchema } = await import('../scenario/jsonschema.js');
      process.stdout.write(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${cmd}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) process.stderr.write(`mmsim: ${e.message}\n${USAGE}\n`);
    else if (e instanceof ScenarioError || e instanceof BadToken || e instanceof TokenMismatch) process.stderr.write(`mmsim: ${e.message}\n`);
    else {
      process.stderr.write(`mmsim: internal error: ${(e as Error)?.message ?? e}\n${process.env.MMSIM_DEBUG ? (e as Error)?.stack : '(set MMSIM_DEBUG=1 for the stack)'}\n`);
      process.exitCode = 3;
      return;
    }
    process.exitCode = 2;
  },
);
