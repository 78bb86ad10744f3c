import type { RegradeKey, RegradeOutcomeView, RunningRegrade } from '../../shared/regrade-contracts';
import type { RegradeRecord, RegradeStore } from '../../store/regrades';

/** The regrade's row, which holds its filter; a regrade whose row is gone takes nothing. */
async function regradeRow(regrades: RegradeStore, key: RegradeKey): Promise<RegradeRecord | undefined> {
  return regrades.get(key.platformId, key.assignmentId, key.seq);
}

/**
 * Activities (control queue) that read an assignment regrade's submissions from the database: how many,
 * a page of ids at a time, and the outcomes of those in flight. Reads only: idempotent.
 */
export function createRegradeTargetActivities(regrades: RegradeStore) {
  return {
    async regradeTotal(key: RegradeKey): Promise<number> {
      const row = await regradeRow(regrades, key);
      return row ? regrades.countTargets(row) : 0;
    },
    async regradePage(req: RegradeKey & { afterId: string | null; limit: number }): Promise<string[]> {
      const row = await regradeRow(regrades, req);
      if (!row) return [];
      return (await regrades.pageTargets(row, req.afterId, req.limit)).map((t) => t.submissionId);
    },
    async regradeOutcomes(running: RunningRegrade[]): Promise<RegradeOutcomeView[]> {
      return (await regrades.outcomes(running)).map(({ attempt: _attempt, ...o }) => o);
    },
  };
}
