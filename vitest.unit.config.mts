import { defineConfig } from 'vitest/config';

/** Pure unit tests only, without the Temporal/PostgreSQL/Docker global setup: `npx vitest run -c vitest.unit.config.mts`. */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
  },
});
