import type { AttemptAllocation, AttemptAllocationRequest } from '../shared/activity-contracts';
import { SA } from '../shared/search-attributes';
import type { Db } from './db';

type Row = Record<string, unknown>;

/** The search attributes gradeflow starts a submission's run with, from its row (as src/control/submission-workflows.ts sets them). */
function keywordAttributes(r: Row): AttemptAllocation['searchAttributes'] {
  const pairs: Array<[string, unknown]> = [
    [SA.platform.name, r.platform_id],
    [SA.flavour.name, r.flavour],
    [SA.workId.name, r.work_id],
    [SA.assignment.name, r.assignment_id],
    [SA.student.name, r.student_id],
    [SA.course.name, r.course_id],
  ];
  return pairs.filter((p): p is [string, string] => typeof p[1] === 'string' && p[1] !== '').map(([name, value]) => ({ name, value }));
}

/**
 * Attempt numbers from the record of truth. A number is handed out once per (workflow id, run id, slot):
 * the same key again (a retried or replayed allocation) answers the same number; a new key (another run,
 * e.g. one reset or started from the Temporal UI, or a renumbering) answers one above every number the
 * submission has used, recorded or allocated. Numbers are never reused, so an attempt's row and its
 * callback's `webhook-id` (`msg_<submission>_<attempt>`) belong to one grading only.
 */
export function createAttemptNumbers(db: Db) {
  return {
    async allocate(r: AttemptAllocationRequest): Promise<AttemptAllocation> {
      return db.transaction(async (tx) => {
        // The submission's row, locked: allocations for one submission are made one at a time.
        const [sub] = await tx.query<Row>('SELECT * FROM submissions WHERE id = $1 FOR UPDATE', [r.submissionId]);
        if (!sub) throw new Error(`submission ${r.submissionId} is not in the database`);
        const searchAttributes = keywordAttributes(sub);
        const [had] = await tx.query<{ attempt: number }>(
          'SELECT attempt FROM attempt_allocations WHERE workflow_id = $1 AND run_id = $2 AND slot = $3',
          [r.workflowId, r.runId, r.slot],
        );
        if (had) return { attempt: had.attempt, searchAttributes };
        const [next] = await tx.query<{ attempt: number }>(
          `SELECT GREATEST($2::integer,
             COALESCE((SELECT max(attempt) FROM attempts WHERE submission_id = $1), 0),
             COALESCE((SELECT max(attempt) FROM attempt_allocations WHERE submission_id = $1), 0)) + 1 AS attempt`,
          [r.submissionId, sub.attempts as number],
        );
        const attempt = next!.attempt;
        await tx.query(
          'INSERT INTO attempt_allocations (workflow_id, run_id, slot, submission_id, attempt) VALUES ($1, $2, $3, $4, $5)',
          [r.workflowId, r.runId, r.slot, r.submissionId, attempt],
        );
        return { attempt, searchAttributes };
      });
    },
  };
}
