import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Once, before the workers start: the cluster and the template.
    globalSetup: ['./global-setup.ts'],
    // In every test file, before its tests: a database of its own.
    setupFiles: ['./setup.ts'],
    // Test files run in parallel, each in a process of its own (Vitest's default pool and isolation).
    pool: 'forks',
  },
});
