/**
 * Preloaded (`node --import`) into each process bench/parallel.ts times: on exit it prints the CPU
 * time of the whole process (every thread: main, workers, the JIT's and GC's helpers) on stderr.
 */
process.on('exit', () => {
  const u = process.resourceUsage();
  process.stderr.write(`\nmmsim-bench-cpu-us ${u.userCPUTime + u.systemCPUTime}\n`);
});
