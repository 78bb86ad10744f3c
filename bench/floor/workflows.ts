import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import { FLOOR_ACTIVITY_QUEUE, type floorActivities } from './activities';

const remote = proxyActivities<typeof floorActivities>({ taskQueue: FLOOR_ACTIVITY_QUEUE, startToCloseTimeout: '1 minute' });
const local = proxyLocalActivities<typeof floorActivities>({ startToCloseTimeout: '1 minute' });

/**
 * The least a grading workflow can be: one activity on another task queue (the container), one local
 * activity after it (record and deliver), done. No payload, no search attributes, no timers.
 */
export async function floorWorkflow(): Promise<void> {
  await remote.nothing();
  await local.nothing();
}
