import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ContainerStartedNotice } from '../shared/activity-contracts';
import type { RegradeRequest, SubmissionProgress } from '../shared/types';

/** Ask for one more grading attempt. Requests that arrive while one is already pending are merged. */
export const regradeSignal = defineSignal<[RegradeRequest]>('regrade');

/**
 * Sent by the grading host's activity as soon as the attempt's container runs (src/activities/docker/
 * announce-start.ts): the run says `running` on that host at once, not when the grading is over.
 */
export const containerStartedSignal = defineSignal<[ContainerStartedNotice]>('containerStarted');

/** Phase, attempt, host and timings of the current attempt. */
export const statusQuery = defineQuery<SubmissionProgress>('status');
