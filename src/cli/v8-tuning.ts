/**
 * V8 tuning for the CLI, set before any model or search code runs (main.ts imports this first; the
 * pool's workers are threads of this process and share V8's flags).
 *
 * `--interrupt-budget` (V8 11.3 default 67,584 bytes of bytecode run per tier-up check) raised to
 * 300,000: TurboFan then compiles the search and the kernel models with more type feedback, so less
 * is compiled twice. Measured on the catalogue (`explore --all`, 3 alternating rounds, 1 Dec 2026):
 * CPU 8.1-8.6 s -> 7.3-8.3 s on one worker, 9.3-9.9 s -> 8.5-9.2 s on the pool of 2, the same
 * exploration (the budget changes when code is optimised, never what it computes). A budget given on
 * the command line (`node --interrupt-budget=N`) wins, so the two can be compared.
 */
import { setFlagsFromString } from 'node:v8';

if (!process.execArgv.some((a) => a.startsWith('--interrupt-budget'))) setFlagsFromString('--interrupt-budget=300000');
