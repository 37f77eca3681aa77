/**
 * The `mmsim` command line, built with commander: per-command help listing every flag with its
 * meaning, default and an example; --version; unknown flags and stray arguments are usage errors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { packageRoot } from '../scenario/catalogue.js';
import { FLAGS, type FlagName, type Flags, UsageError } from './args.js';

type Action = (pos: string[], flags: Flags) => number | Promise<number>;

interface CommandSpec {
  readonly name: string;
  readonly args: string;
  readonly summary: string;
  readonly flags: readonly FlagName[];
  readonly examples: readonly string[];
}

const EXPLORE_FLAGS: FlagName[] = ['variant', 'strategy', 'seed', 'budget', 'max-steps', 'max-states', 'depth', 'preemptions', 'param', 'por', 'dpor', 'reduce', 'parallel-dfs', 'max-memory', 'task-limit', 'max-file-size'];

export const COMMANDS: readonly CommandSpec[] = [
  { name: 'list', args: '', summary: 'the built-in scenarios, their variants and expected verdicts', flags: ['json'], examples: ['mmsim list', 'mmsim list --json'] },
  { name: 'check', args: '<scenario>', summary: 'validate a scenario file (schema and semantic checks) without exploring', flags: ['param', 'max-file-size', 'watch'], examples: ['mmsim check my.yaml', 'mmsim check my.yaml --watch'] },
  {
    name: 'explore',
    args: '[scenario]',
    summary: 'explore a scenario (a catalogue name or a file); exit 1 if a verdict is not as the scenario expects',
    flags: ['all', ...EXPLORE_FLAGS, 'workers', 'split', 'json', 'json-array', 'junit', 'sarif', 'coverage', 'watch'],
    examples: [
      'mmsim explore abba',
      'mmsim explore --all --workers 2 --junit report.xml',
      'mmsim explore my.yaml --variant fixed --strategy pct --depth 3 --budget 60s',
      'mmsim explore big.yaml --strategy dfs --max-memory 4g --task-limit 30m',
      "mmsim explore abba --json | jq -s 'map(select(.matchesExpectation | not))'",
    ],
  },
  {
    name: 'replay',
    args: '<scenario> <token>',
    summary: 're-run a witness token: the trace, then the verdict; write exporters',
    flags: ['variant', 'param', 'max-steps', 'max-file-size', 'json', 'html', 'perfetto', 'mermaid', 'trace', 'trace-schema'],
    examples: ['mmsim replay abba v1.010 --variant default', 'mmsim replay abba v1.010 --html t.html --perfetto t.json --mermaid t.md'],
  },
  {
    name: 'lockdep',
    args: '[scenario]',
    summary: 'the lock-order graph of each variant (or --all), cycles and lock misuse as kernel splats; exit 1 if one is not expected',
    flags: ['all', ...EXPLORE_FLAGS, 'json', 'dot'],
    examples: ['mmsim lockdep philosophers-3', 'mmsim lockdep philosophers-3 --variant default --dot g.dot', 'mmsim lockdep --all'],
  },
  {
    name: 'machines',
    args: '[scenario]',
    summary: "each actor's protocol machine as a Mermaid stateDiagram-v2 and as xstate JSON (no scenario: the built-in protocols)",
    flags: ['variant', 'param', 'max-file-size', 'json'],
    examples: ['mmsim machines', 'mmsim machines udmabuf-pipeline', 'mmsim machines actors-rpc-fence --json'],
  },
  { name: 'schema', args: '[scenario]', summary: 'the JSON Schema of scenario files (with a scenario: its switch names and descriptions)', flags: ['max-file-size'], examples: ['mmsim schema > scenario.schema.json', 'mmsim schema uffd-move-vs-gup'] },
];

function option(name: FlagName): Option {
  const f = FLAGS[name] as { arg?: string; desc: string; def: string; repeat?: boolean };
  const flag = name === 'por' ? '--no-por' : `--${name}${f.arg ? ` <${f.arg}>` : ''}`;
  const o = new Option(flag, `${f.desc} (default: ${f.def})`);
  if (f.repeat) o.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
  return o;
}

/** Commander's camelCase option values back to the long flag names the commands use. */
function flagsOf(cmd: Command, names: readonly FlagName[]): Flags {
  const o = cmd.opts() as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const n of names) {
    const v = o[n.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())];
    if (n === 'por') {
      if (v === false) out['no-por'] = true;
    } else if (v !== undefined) out[n] = v;
  }
  return out as Flags;
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** Build the program; `run` receives the command's name, positionals and flags and returns the exit code. */
export function program(run: (cmd: string, pos: string[], flags: Flags) => number | Promise<number>, result: { code: number }): Command {
  const p = new Command('mmsim')
    .description('Systematic-testing simulator for Linux memory-management concurrency.')
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'this help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} })
    .addHelpText('after', '\nExit codes: 0 as expected, 1 a verdict differs from the expectation, 2 bad input, 3 internal error,\n130/143 stopped by SIGINT/SIGTERM (the finished rows and findings are printed).\nSee `mmsim <command> --help` for each command\'s flags and defaults.');
  for (const c of COMMANDS) {
    const sub = p.command(`${c.name}${c.args ? ` ${c.args}` : ''}`).description(c.summary).helpOption('-h, --help', 'this help');
    for (const f of c.flags) sub.addOption(option(f));
    sub.addHelpText('after', `\nExamples:\n${c.examples.map((e) => `  ${e}`).join('\n')}\n`);
    const action: Action = (pos, flags) => run(c.name, pos, flags);
    sub.action(async (...a: unknown[]) => {
      const pos = a.slice(0, -2).filter((x): x is string => typeof x === 'string');
      result.code = await action(pos, flagsOf(sub, c.flags));
    });
  }
  return p;
}

/** Parse and run; usage errors become UsageError, --help and --version exit 0. */
export async function runProgram(argv: string[], run: (cmd: string, pos: string[], flags: Flags) => number | Promise<number>): Promise<number> {
  const result = { code: 0 };
  const p = program(run, result);
  if (argv.length === 0) {
    process.stdout.write(p.helpInformation());
    return 0;
  }
  try {
    await p.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    throw new UsageError(e.message.replace(/^error: /, ''));
  }
  return result.code;
}
