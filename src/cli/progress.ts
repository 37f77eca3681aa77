/** A progress bar on stderr (cli-progress), fed by the explorer's progress stream; silent off a terminal. */
import cliProgress from 'cli-progress';
import { Subject } from 'rxjs';
import type { Progress } from '../explore/explore.js';

export function progressBar(label: string): { progress$: Subject<Progress>; stop: () => void } {
  const progress$ = new Subject<Progress>();
  if (!process.stderr.isTTY) return { progress$, stop: () => progress$.complete() };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} {phase} [{bar}] {value}/{total} tasks | {runs} runs | {findings} findings`, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  progress$.subscribe((p) => {
    if (!started) {
      bar.start(p.total, 0, { phase: p.phase, runs: 0, findings: 0 });
      started = true;
    }
    bar.setTotal(p.total);
    bar.update(p.done, { phase: p.phase, runs: p.runs, findings: p.findings });
  });
  return {
    progress$,
    stop: () => {
      progress$.complete();
      if (started) bar.stop();
    },
  };
}
