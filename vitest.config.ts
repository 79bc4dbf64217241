import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Interop tests drive real processes that share the two cores; run files one at a time
    // so that load from one test cannot cause loss in another.
    fileParallelism: false,
  },
});
