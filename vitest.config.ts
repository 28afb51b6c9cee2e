import { defineConfig } from 'vitest/config';

// One runner for the whole repository. Tests live beside the code (unit), in <workspace>/test/
// (workspace integration) and in test/ (end to end). The experiment's browser code runs under
// jsdom; everything else under Node.
export default defineConfig({
  test: {
    testTimeout: 180_000,
    hookTimeout: 600_000,
    pool: 'forks',
    reporters: ['default', './test/src/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: [
            '{cli,rdm,protocol,tooling,figures,stimuli,server,analysis,simulation,compare,viewer,executor,test}/**/*.test.ts',
          ],
          exclude: ['**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'dom',
          environment: 'jsdom',
          include: ['experiment/**/*.test.ts'],
          exclude: ['**/node_modules/**'],
        },
      },
    ],
  },
});
