import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { ProcessWatch } from '../measure';
import { FLOOR_ACTIVITY_QUEUE, floorActivities } from './activities';

export interface FloorResult {
  workflows: number;
  perS: number;
  /**
   * CPU seconds per workflow: each watched process tree (the Temporal server when it is the bench's own,
   * its PostgreSQL on the cluster), and the SDK (client and both workers, this process).
   */
  cpuSecondsPerWorkflow: { temporal?: number; postgres?: number; sdk: number };
}

/**
 * What Temporal itself costs per workflow of a grading's shape, on the same server and cores as the
 * bench: start (eager), one activity on another queue, one local activity, complete, `n` of them with
 * `concurrency` in flight. Nothing of gradeflow runs: the floor under gradeflow's Temporal CPU.
 */
export async function measureFloor(
  temporalAddress: string,
  watched: { temporal?: number; postgres?: number },
  n: number,
  concurrency: number,
): Promise<FloorResult> {
  const taskQueue = `bench-floor-${randomUUID().slice(0, 8)}`;
  const nativeConnection = await NativeConnection.connect({ address: temporalAddress });
  const workflowWorker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    // workflows.ts under vitest, workflows.js when built
    workflowsPath: ['workflows.js', 'workflows.ts'].map((f) => path.join(__dirname, f)).find((f) => existsSync(f))!,
    activities: floorActivities,
  });
  const activityWorker = await Worker.create({ connection: nativeConnection, taskQueue: FLOOR_ACTIVITY_QUEUE, activities: floorActivities });
  // Eager start needs the client on the workers' connection, as gradeflow's server has it.
  const client = new Client({ connection: nativeConnection });
  const watch = new ProcessWatch();
  for (const [name, pid] of Object.entries(watched)) if (pid) watch.watch(name, pid);
  const run = async (count: number): Promise<void> => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < count) {
          await client.workflow.execute('floorWorkflow', { taskQueue, workflowId: `floor-${randomUUID()}`, requestEagerStart: true });
        }
      }),
    );
  };
  const running = Promise.all([workflowWorker.run(), activityWorker.run()]);
  try {
    await run(Math.min(20, n)); // warm-up
    watch.start();
    const sdkBefore = process.cpuUsage(); // this process only (client, both workers and their threads)
    const begin = performance.now();
    await run(n);
    const seconds = (performance.now() - begin) / 1000;
    const sdk = process.cpuUsage(sdkBefore);
    watch.stop();
    const cpu = watch.takeCpu();
    return {
      workflows: n,
      perS: Math.round((n / seconds) * 10) / 10,
      cpuSecondsPerWorkflow: {
        ...Object.fromEntries(Object.entries(cpu).map(([name, seconds]) => [name, Math.round((seconds / n) * 10000) / 10000])),
        sdk: Math.round(((sdk.user + sdk.system) / 1e6 / n) * 10000) / 10000,
      },
    };
  } finally {
    watch.close();
    workflowWorker.shutdown();
    activityWorker.shutdown();
    await running;
    await nativeConnection.close();
  }
}
