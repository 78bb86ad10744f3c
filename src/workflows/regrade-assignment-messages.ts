import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RegradeProgress } from '../shared/regrade-contracts';

/** Start no more regrades until `resume`; those in flight finish and are counted. */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Start no more regrades and close; those already asked for finish in their own workflows. */
export const cancelSignal = defineSignal('cancel');
/** `{total, done, failed, running, changed, paused, cancelled, finished}`. */
export const progressQuery = defineQuery<RegradeProgress>('progress');
