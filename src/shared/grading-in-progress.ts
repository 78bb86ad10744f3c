import type { temporal } from '@temporalio/proto';
import { hostOfIdentity } from './worker-identity';

const GRADING_ACTIVITIES = new Set(['runContainer', 'awaitContainer']);
const STARTED = 2; // PENDING_ACTIVITY_STATE_STARTED

/**
 * From a workflow's description: the grading activity a host is running now, if any, with that host's id
 * and when it picked the activity up. (The workflow itself learns the host only when the grading ends.)
 */
export function gradingInProgress(
  description: temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse,
): { host?: string; since?: string } | undefined {
  const busy = description.pendingActivities?.find(
    (a) => GRADING_ACTIVITIES.has(a.activityType?.name ?? '') && Number(a.state) === STARTED,
  );
  if (!busy) return undefined;
  const seconds = busy.lastStartedTime?.seconds;
  const host = hostOfIdentity(busy.lastWorkerIdentity);
  return {
    ...(host ? { host } : {}),
    ...(seconds != null ? { since: new Date(Number(seconds) * 1000 + Math.round((busy.lastStartedTime?.nanos ?? 0) / 1e6)).toISOString() } : {}),
  };
}
