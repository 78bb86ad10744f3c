import { patched } from '@temporalio/workflow';
import type { Priority } from '@temporalio/common';
import type { GradeSubmissionInput } from '../shared/types';

/**
 * The task-queue priority of one attempt's grading: the priority its request asked for (a new
 * submission's own, a regrade's), else the run's regrade default; fairness by the run's course. Runs
 * started before priorities (no `input.priority`) schedule their gradings as they did, without one.
 */
export function attemptPriority(input: GradeSubmissionInput, asked: number | undefined): Priority | undefined {
  const p = input.priority;
  if (!p || !patched('task-priority')) return undefined;
  return { priorityKey: asked ?? p.regradeKey, fairnessKey: p.fairnessKey, fairnessWeight: p.fairnessWeight };
}
