import type { OwnedStarts } from '../control/workflow-ownership';
import type { RegradeKey, RegradeRequested } from '../shared/regrade-contracts';
import type { SubmissionStore } from '../store/submissions';
import { regradeRequests } from '../metrics/server-metrics';

/**
 * Activity (control queue): ask each submission's own workflow for one more attempt, as
 * `POST /v1/submissions/:id/regrade` does (signal, or signal-with-start when it has closed). Answers, per
 * submission, the attempts it had before (its regrade's outcome is a newer one) or why it could not be
 * asked. With an image, the submission is graded with it from now on (stored, and sent with the signal).
 * A retry asks again; a request that arrives while one is pending is merged with it by the workflow.
 */
export function createRegradeRequests(deps: { store: Pick<SubmissionStore, 'get' | 'setImage' | 'claimForRegrade'>; owned: Pick<OwnedStarts, 'regrade'> }) {
  return async function requestRegrades(req: RegradeKey & { submissionIds: string[]; image?: string; priority?: number }): Promise<RegradeRequested[]> {
    const requestedBy = `regrade ${req.assignmentId}/${req.seq}`;
    const answers = await Promise.all(
      req.submissionIds.map(async (submissionId): Promise<RegradeRequested> => {
        try {
          const sub = await deps.store.get(req.platformId, submissionId);
          if (!sub) return { ok: false, submissionId, error: 'no such submission' };
          if (!(await deps.store.claimForRegrade(sub.id))) return { ok: false, submissionId, error: 'its file was removed (gradeflow prune): it cannot be regraded' };
          if (req.image !== undefined && sub.image !== req.image) await deps.store.setImage(sub.id, req.image);
          await deps.owned.regrade(req.image !== undefined ? { ...sub, image: req.image } : sub, requestedBy, {
            ...(req.image !== undefined ? { image: req.image } : {}),
            ...(req.priority !== undefined ? { priority: req.priority } : {}),
          });
          return { ok: true, submissionId, afterAttempt: sub.attempts };
        } catch (err) {
          return { ok: false, submissionId, error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    for (const a of answers) regradeRequests.inc({ platform: req.platformId, result: a.ok ? 'requested' : 'error' });
    return answers;
  };
}
