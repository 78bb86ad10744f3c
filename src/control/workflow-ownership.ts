import type { Logger } from 'pino';
import { ownWorkflowId } from '../shared/workflow-ids';
import type { Submission, SubmissionStore } from '../store/submissions';
import type { RegradeOptions, SubmissionWorkflows } from './submission-workflows';

/** A submission whose workflow id, even its own (`…/id/<id>`), is held by another submission's workflow. */
class WorkflowIdTakenError extends Error {
  constructor(
    readonly submissionId: string,
    readonly workflowId: string,
    readonly ownedBy: string,
  ) {
    super(`submission ${submissionId} cannot be started: workflow ${workflowId} belongs to submission ${ownedBy}`);
    this.name = 'WorkflowIdTakenError';
  }
}

/**
 * Starts and regrades that make sure the workflow is the submission's own. Rows stored before workflow ids
 * had separate namespaces for work_ids and gradeflow ids may share one (a work_id equal to an earlier
 * submission's id): such a submission is moved to the id only it can have, `submission/<platform>/id/<id>`,
 * and started there. Moving is idempotent (several servers may find the same row).
 */
export function createOwnedStarts(deps: {
  workflows: Pick<SubmissionWorkflows, 'start' | 'regrade' | 'owner'>;
  store: Pick<SubmissionStore, 'moveWorkflowId' | 'noteProblem'>;
  log: Logger;
}) {
  const { workflows, store, log } = deps;

  /** Move to its own id; throws when it is already there (nowhere else to go), after noting why. */
  const move = async (sub: Submission, ownedBy: string): Promise<Submission> => {
    const to = ownWorkflowId(sub.platformId, sub.id);
    if (sub.workflowId === to) {
      const err = new WorkflowIdTakenError(sub.id, sub.workflowId, ownedBy);
      await store.noteProblem(sub.id, `not started: its workflow id ${sub.workflowId} is used by submission ${ownedBy}; an operator must look`);
      log.error({ submission: sub.id, workflowId: sub.workflowId, ownedBy }, err.message);
      throw err;
    }
    const moved = await store.moveWorkflowId(sub.id, sub.workflowId, to);
    if (!moved) throw new Error(`submission ${sub.id} was given another workflow id meanwhile; it is started from there`);
    log.warn(
      { submission: sub.id, from: sub.workflowId, to: moved.workflowId, ownedBy },
      `submission ${sub.id} shared workflow id ${sub.workflowId} with submission ${ownedBy}; moved to ${moved.workflowId}`,
    );
    return moved;
  };

  const start = async (sub: Submission, inline?: Buffer): Promise<Submission> => {
    for (let current = sub; ; ) {
      const outcome = await workflows.start(current, inline);
      if (outcome.started) return current;
      current = await move(current, outcome.ownedBy);
    }
  };

  return {
    /**
     * Start it (idempotent); answers the submission as started, with its workflow id moved if it had to be.
     * `inline`: the file's bytes, to carry in the workflow input.
     */
    start,

    /** A submission found under another's workflow: move it and start it. */
    async repair(sub: Submission, ownedBy: string): Promise<Submission> {
      return start(await move(sub, ownedBy));
    },

    /** Regrade its own workflow, never the one of a submission it shared an id with. */
    async regrade(sub: Submission, requestedBy: string, options: RegradeOptions = {}): Promise<void> {
      let current = sub;
      const owner = await workflows.owner(current.workflowId);
      if (owner !== undefined && owner !== sub.id) {
        current = await move(current, owner);
        const again = await workflows.owner(current.workflowId);
        if (again !== undefined && again !== sub.id) await move(current, again); // throws: its own id is taken too
      }
      await workflows.regrade(current, requestedBy, options);
      if (sub.problem) await store.noteProblem(sub.id, null);
    },
  };
}

export type OwnedStarts = ReturnType<typeof createOwnedStarts>;
