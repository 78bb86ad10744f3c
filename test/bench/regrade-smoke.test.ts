import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import { formatRegradeResult, runRegradeBench } from '../../bench/regrade';

/** The assignment-regrade benchmark (`npm run bench -- --regrade N`), tiny, so that it cannot rot: every part runs. */
describe('regrade benchmark smoke run', () => {
  it('grades an assignment, runs it raw, regrades it, and times a live submission during the regrade', async () => {
    const result = await runRegradeBench({ submissions: 20, slots: 2, live: 1, single: 1, temporalAddress: inject('temporalAddress') });
    expect(result.regrade).toMatchObject({ done: 20, failed: 0, changed: 0 });
    expect(result.regrade.toLastCallbackMs).toBeGreaterThan(0);
    expect(result.raw.wallMs).toBeGreaterThan(0);
    expect(result.regrade.ratioToRaw).toBeGreaterThan(0);
    expect(result.live.samples).toHaveLength(1);
    const [live] = result.live.samples;
    // Its grading started after it was posted, and its callback came after that.
    expect(live!.toStartMs).toBeGreaterThan(0);
    expect(live!.toCallbackMs).toBeGreaterThanOrEqual(live!.toStartMs);
    expect(result.single.gradeflow.toCallbackMs).toBeGreaterThan(0);
    expect(formatRegradeResult(result)).toContain('live submission of another course during the regrade (1)');
  }, 900_000);
});
