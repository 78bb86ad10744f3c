import { isCancellation, sleep, workflowInfo } from '@temporalio/workflow';
import type { Priority } from '@temporalio/common';
import type { GradingSpec } from '../shared/activity-contracts';
import type { GradeResult, GradeSubmissionInput } from '../shared/types';
import { awaitProxy, runProxy } from './activity-options';
import { infrastructureFailure, rejectedSubmission } from './failures';
import type { Progress } from './progress';

export function gradingSpec(input: GradeSubmissionInput, attempt: number): GradingSpec {
  return {
    submissionId: input.submissionId,
    workflowId: workflowInfo().workflowId,
    platformId: input.platformId,
    attempt,
    image: input.image,
    flavour: input.flavour,
    limits: input.limits,
    env: input.env,
    file: input.file,
    grading: input.grading,
  };
}

/**
 * Run one attempt's container to a result: on the flavour's queue, then (if its host handed it over while
 * shutting down) on that host's queue. Infrastructure faults repeat it, with backoff, `infrastructureRetries`
 * times; then the fault is the result. A refused submission is a result at once. `priority`: its place
 * among the gradings waiting on those queues (./priority.ts).
 */
export async function gradeInContainer(input: GradeSubmissionInput, spec: GradingSpec, progress: Progress, priority?: Priority): Promise<GradeResult> {
  for (let tries = 1; ; tries++) {
    try {
      const outcome = await runProxy(input, `attempt ${spec.attempt}: grade in a container (${input.flavour})`, priority).runContainer(spec);
      progress.containerStarted(outcome.started);
      if (outcome.kind === 'graded') return outcome.result;
      // Its host is shutting down with the container running: a restarted worker there takes it over.
      progress.setPhase('running', outcome.started.hostId);
      const { hostId, hostQueue } = outcome.started;
      const summary = `attempt ${spec.attempt}: await the container handed over on ${hostId}`;
      return await awaitProxy(input, hostQueue, summary, priority).awaitContainer(spec, outcome.started);
    } catch (err) {
      if (isCancellation(err)) throw err;
      const rejected = rejectedSubmission(err);
      if (rejected) return rejected;
      if (tries > input.infrastructureRetries) return infrastructureFailure(err, tries);
      await sleep(Math.min(30_000, 1000 * 2 ** (tries - 1)));
    }
  }
}
