import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RegradeRequest, SubmissionProgress } from '../shared/types';

/** Ask for one more grading attempt. Requests that arrive while one is already pending are merged. */
export const regradeSignal = defineSignal<[RegradeRequest]>('regrade');

/** Phase, attempt, host and timings of the current attempt. */
export const statusQuery = defineQuery<SubmissionProgress>('status');
