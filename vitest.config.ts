import { defineConfig } from 'vitest/config';

// Tests spawn the CLI and worker pools on a 2-core machine: allow for load, never for speed goals.
export default defineConfig({
  test: { testTimeout: 120_000, hookTimeout: 60_000, include: ['test/**/*.test.ts'] },
});
