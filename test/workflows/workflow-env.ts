import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from './history-json';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { ensureSearchAttributes } from '../../src/control/register-search-attributes';
import type { StartedContainer } from '../../src/shared/activity-contracts';
import type { GradeResult, GradeSubmissionInput, RegradeRequest } from '../../src/shared/types';
import type { gradeSubmissionWorkflow } from '../../src/workflows';
import { regradeSignal } from '../../src/workflows/messages';

/**
 * Workflow tests as Temporal recommends them: the suite's dev server (`createFromExistingServer`), the
 * prebuilt bundle, activities as plain objects. Each test runs on task queues of its own.
 *
 * `GRADEFLOW_RECORD_HISTORIES=1` (`npm run histories`) also saves each run's history as a replay fixture.
 */
export const HISTORIES_DIR = path.resolve(__dirname, '..', 'fixtures', 'histories');
const RECORDING = process.env.GRADEFLOW_RECORD_HISTORIES === '1';

export type Handle = WorkflowHandle<typeof gradeSubmissionWorkflow>;

export async function createEnv(): Promise<TestWorkflowEnvironment> {
  // Once per process (vitest forks a process per file): the workers' state changes are not worth printing.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address: inject('temporalAddress') });
  await ensureSearchAttributes(env.connection, 'default');
  return env;
}

/** Save a closed run's history as `test/fixtures/histories/<name>.json` (the SDK's own JSON form). */
export async function saveHistory(name: string, handle: { fetchHistory(): ReturnType<Handle['fetchHistory']> }): Promise<void> {
  mkdirSync(HISTORIES_DIR, { recursive: true });
  writeFileSync(path.join(HISTORIES_DIR, `${name}.json`), `${historyToJSON(await handle.fetchHistory())}\n`);
}

function gradeInput(queue: string, over: Partial<GradeSubmissionInput> = {}): GradeSubmissionInput {
  return {
    submissionId: `sub-${queue}`,
    platformId: 'test',
    workId: `work-${queue}`,
    image: 'gradeflow-test/script-runner:1',
    flavour: 'default',
    limits: { cpus: 1, memoryMb: 128, pids: 64, timeLimitSeconds: 20, outputLimitBytes: 1 << 20, tmpfsMb: 16 },
    env: {},
    file: { name: 'grade.sh', sha256: 'a'.repeat(64), size: 4 },
    grading: { format: 'auto' },
    callbackUrl: 'http://127.0.0.1:9/callback',
    previousAttempts: 0,
    gradeOnStart: true,
    callbackPolicy: { initialIntervalMs: 100, maximumIntervalMs: 200, backoffCoefficient: 2, giveUpAfterMs: 60_000, firstTryTimeoutMs: 2000 },
    infrastructureRetries: 1,
    taskQueues: { control: queue, flavour: queue, deliveries: queue },
    ...over,
  };
}

export function graded(grade: number): GradeResult {
  return { success: true, grade, comments: [], tests: [] };
}

export function started(queue: string, hostId = 'host-a'): StartedContainer {
  return { hostId, hostQueue: `${queue}-host-${hostId}`, containerId: `c-${hostId}`, startedAt: '2025-01-01T00:00:00.000Z' };
}

export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export interface RunOptions {
  name: string;
  activities: object;
  input?: (queue: string) => Partial<GradeSubmissionInput>;
  /** Workers of other queues (a grading host's), as [queue suffix, activities]. */
  hosts?: [string, object][];
  /** Start as the API does for a regrade of a closed workflow: signal-with-start. */
  signalRegrade?: boolean;
  /** The signal-with-start's regrade request (default: requested by `test`). */
  regradeRequest?: RegradeRequest;
}

/**
 * Start the workflow on a fresh task queue with the given activities, run `body` while the workers run,
 * then (when recording) save the history under `name`.
 */
export async function runWorkflow(env: TestWorkflowEnvironment, opts: RunOptions, body: (handle: Handle, queue: string) => Promise<void>): Promise<void> {
  const queue = `wf-${opts.name}-${randomBytes(4).toString('hex')}`;
  const workflowBundle = { codePath: inject('workflowBundlePath') };
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: queue, workflowBundle, activities: opts.activities });
  const hosts = await Promise.all(
    (opts.hosts ?? []).map(([suffix, activities]) => Worker.create({ connection: env.nativeConnection, taskQueue: `${queue}${suffix}`, activities })),
  );
  let handle: Handle | undefined;
  const main = worker.runUntil(async () => {
    const start = { taskQueue: queue, workflowId: `submission/test/w/${queue}`, args: [gradeInput(queue, opts.input?.(queue) ?? {})] as const };
    handle = opts.signalRegrade
      ? await env.client.workflow.signalWithStart<typeof gradeSubmissionWorkflow, [RegradeRequest]>('gradeSubmissionWorkflow', {
          ...start,
          args: [...start.args],
          signal: regradeSignal,
          signalArgs: [opts.regradeRequest ?? { requestedBy: 'test' }],
        })
      : await env.client.workflow.start<typeof gradeSubmissionWorkflow>('gradeSubmissionWorkflow', { ...start, args: [...start.args] });
    await body(handle, queue);
  });
  await hosts.reduce<Promise<void>>((inner, host) => host.runUntil(inner), main);
  if (RECORDING && handle) await saveHistory(opts.name, handle);
}
