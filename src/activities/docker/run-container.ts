import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorTypes } from '../../shared/error-types';
import { failureResult } from '../../shared/failure-result';
import type { GradingSpec, RunOutcome } from '../../shared/activity-contracts';
import type { GradeResult } from '../../shared/types';
import { launchContainer, type LaunchDeps } from './launch-container';
import { HandedOver, superviseContainer } from './supervise-container';

/**
 * Activity (flavour queue): one grading, whole, on whichever host takes it: launch the container, wait for
 * it, and answer with the result. One task queue round trip per grading. If this host shuts down while
 * the container runs, the container is left running and the answer says which host's queue holds it, so
 * that the workflow awaits it there (`awaitContainer`) instead of starting over.
 *
 * A grader that cannot run as named (GraderRejected: Docker refused its container, or the reference is
 * not the image's name) is answered as a result at once, `invalid_response` from the grader: no
 * container ran (`containerId` is empty), and no retry would change it.
 */
/** The result when launching failed with GraderRejected: the grader's fault, no container ran. Else undefined. */
export function rejectedGraderResult(err: unknown): GradeResult | undefined {
  if (!(err instanceof ApplicationFailure) || err.type !== ErrorTypes.GraderRejected) return undefined;
  return failureResult('invalid_response', 'grader', `The grader could not be started: ${err.message}. This is not the submission's fault.`);
}

export function createRunContainer(deps: LaunchDeps) {
  return async function runContainer(spec: GradingSpec): Promise<RunOutcome> {
    const ctx = Context.current();
    let started;
    try {
      started = await launchContainer(deps, ctx, spec);
    } catch (err) {
      const result = rejectedGraderResult(err);
      if (!result) throw err;
      const host = { hostId: deps.host.hostId, hostQueue: deps.host.hostQueue };
      return { kind: 'graded', started: { ...host, containerId: '', startedAt: new Date().toISOString() }, result };
    }
    deps.announceStart?.(ctx, spec.attempt, started);
    try {
      return { kind: 'graded', started, result: await superviseContainer(deps, ctx, spec, started) };
    } catch (err) {
      if (err instanceof HandedOver) return { kind: 'handedOver', started: err.started };
      throw err;
    }
  };
}
