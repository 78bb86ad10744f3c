import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.mts';

// `npm run histories`: re-records the replay fixtures in test/fixtures/histories/ on purpose, from the
// workflow tests and from real gradings (record-e2e.histories.ts runs only here, never in `npm test`).
export default mergeConfig(base, defineConfig({
  test: { include: ['test/workflows/grade-submission.test.ts', 'test/workflows/record-e2e.histories.ts'] },
}));
