import os from 'node:os';
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import type Dockerode from 'dockerode';
import { createHostActivities } from '../activities';
import type { SubmissionSource } from '../activities/docker/submission-bytes';
import { createStartAnnouncer } from '../activities/docker/announce-start';
import { ContainerSlots } from '../activities/docker/container-slots';
import { fetchGraderFacts } from '../activities/docker/grader-facts';
import { OutputCollectors } from '../activities/docker/output-collectors';
import type { GradeflowConfig } from '../config/schema';
import { dataConverterFromConfig } from '../security/payload-keys';
import { flavourQueue, hostQueue } from '../shared/task-queues';
import { workerIdentity } from '../shared/worker-identity';

export interface GradingHostDeps {
  connection: NativeConnection;
  config: GradeflowConfig;
  docker: Dockerode;
  submissions: SubmissionSource;
  /** The host's Temporal client: a grading signals its workflow through it when its container starts (`worker.announceContainerStart`). */
  client?: Client;
}

export interface GradingHost {
  hostId: string;
  workers: Worker[];
  slots: ContainerSlots;
  collectors: OutputCollectors;
}

/**
 * A grading host: one worker per flavour it serves (start activities, at most `slots` at once) and one on
 * its own queue (await activities), sharing one count of live containers.
 */
export async function createGradingHost(deps: GradingHostDeps): Promise<GradingHost> {
  const { config } = deps;
  const prefix = config.temporal.taskQueuePrefix;
  const hostId = config.worker.hostId ?? os.hostname().replace(/[^A-Za-z0-9_.-]/g, '-');
  const slots = new ContainerSlots(config.worker.slots);
  const collectors = new OutputCollectors();
  const activities = createHostActivities({
    docker: deps.docker,
    host: { hostId, hostQueue: hostQueue(prefix, hostId) },
    slots,
    collectors,
    submissions: deps.submissions,
    isolationFor: (flavour) => {
      const f = config.flavours[flavour];
      return { ...(f?.runtime ? { runtime: f.runtime } : {}), allowRoot: f?.allowRoot ?? false, switchUser: f?.switchUser ?? false };
    },
    pullPolicyFor: (flavour) => config.flavours[flavour]?.pullPolicy ?? 'if-missing',
    registries: config.registries,
    pullRetrySeconds: config.worker.pullRetrySeconds,
    archiveLimits: config.archives,
    graderFacts: (spec, signal) => fetchGraderFacts(deps.submissions, spec.submissionId, signal),
    ...(deps.client && config.worker.announceContainerStart !== false ? { announceStart: createStartAnnouncer(deps.client) } : {}),
  });
  const common = {
    connection: deps.connection,
    identity: workerIdentity(hostId, process.pid),
    namespace: config.temporal.namespace,
    dataConverter: dataConverterFromConfig(config),
    shutdownGraceTime: `${config.worker.shutdownGraceSeconds} seconds`,
    enableNonLocalActivities: true,
  } as const;
  const flavours = config.worker.flavours ?? Object.keys(config.flavours);
  const workers = await Promise.all([
    ...flavours.map((f) =>
      Worker.create({
        ...common,
        taskQueue: flavourQueue(prefix, f),
        activities: { runContainer: activities.runContainer },
        // One grading per slot runs; one more per slot waits here, fetched, for its slot to free (never
        // more containers than slots: ContainerSlots decides). The rest waits in Temporal.
        maxConcurrentActivityTaskExecutions: config.worker.slots * 2,
      }),
    ),
    Worker.create({
      ...common,
      taskQueue: hostQueue(prefix, hostId),
      activities: { awaitContainer: activities.awaitContainer },
      maxConcurrentActivityTaskExecutions: config.worker.slots * 2,
    }),
  ]);
  return { hostId, workers, slots, collectors };
}
