import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { ErrorTypes } from '../shared/error-types';
import { failureResult } from '../shared/failure-result';
import type { GradeResult } from '../shared/types';

/** Why an attempt that infrastructure kept failing ends; the platform must not charge the student. */
export function infrastructureFailure(err: unknown, tries: number): GradeResult {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  const lostHost = cause instanceof TimeoutFailure;
  const detail = lostHost ? 'the grading host stopped answering' : cause instanceof Error ? cause.message : String(cause);
  return failureResult(
    'infrastructure_error',
    'infrastructure',
    `Grading could not run after ${tries} tries because of an infrastructure fault (${detail}). This is not the submission's fault.`,
  );
}

/** A submission the host could not unpack (a hostile or broken archive) is a result, not a fault to retry. */
export function rejectedSubmission(err: unknown): GradeResult | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (!(cause instanceof ApplicationFailure) || cause.type !== ErrorTypes.SubmissionRejected) return undefined;
  return failureResult('invalid_submission', 'student', `The submission was refused: ${cause.message}`);
}

export const CANCELLED: GradeResult = failureResult(
  'cancelled',
  'operator',
  'Grading was cancelled by an operator before it finished. Ask for a regrade to grade it again.',
);
