/** SIGINT/SIGTERM during `mmsim explore`: stop the workers through a shared flag, then print and exit. */

/** Grace after a signal for running tasks to hand back what they found, before exiting without them. */
const SIGNAL_GRACE_MS = 3000;

/**
 * SIGINT/SIGTERM set the shared stop flag: workers return what they found so far and the rows are
 * printed as usual. If they have not within the grace (a step that does not return), or on a second
 * signal, `forceExit` prints what is finished and the process exits.
 */
export function onStopSignals(stop: Int32Array, forceExit: (sig: NodeJS.Signals) => number): { received: () => NodeJS.Signals | null; dispose: () => void } {
  let got: NodeJS.Signals | null = null;
  let timer: NodeJS.Timeout | null = null;
  const force = (sig: NodeJS.Signals) => process.exit(forceExit(sig));
  const handler = (sig: NodeJS.Signals) => {
    if (got) return force(got);
    got = sig;
    Atomics.store(stop, 0, 1);
    timer = setTimeout(() => force(sig), SIGNAL_GRACE_MS);
    timer.unref();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    received: () => got,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      if (timer) clearTimeout(timer);
    },
  };
}
