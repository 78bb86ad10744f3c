import type { FastifyInstance } from 'fastify';
import { flavourQueue } from '../../shared/task-queues';
import type { AppDeps } from '../deps';
import { errorResponses, platformSecurity, publicSecurity, TAGS } from '../schemas/common';
import { FlavourListSchema, VersionSchema } from '../schemas/discovery';
import { VERSIONS } from '../versions';

/** Runtimes that sandbox the container's system calls (gVisor's `runsc` and its variants). */
const SANDBOXING_RUNTIME = /^runsc(\b|-)|gvisor|kata/i;

/** GET /v1/flavours, with a platform's key: what a platform can find out before it submits. */
export function registerFlavourRoutes(v1: FastifyInstance, deps: Pick<AppDeps, 'config'>): void {
  const prefix = deps.config.temporal.taskQueuePrefix;
  const flavours = Object.entries(deps.config.flavours).map(([name, f]) => ({
    name,
    limits: {
      cpus: f.cpus,
      memory_mb: f.memoryMb,
      pids: f.pids,
      time_limit_seconds: f.timeLimitSeconds,
      output_limit_bytes: f.outputLimitBytes,
      tmpfs_mb: f.tmpfsMb,
    },
    runtime: f.runtime ?? null,
    runtime_sandboxed: f.runtime !== undefined && SANDBOXING_RUNTIME.test(f.runtime),
    allow_root: f.allowRoot,
    switch_user: f.switchUser,
    pull_policy: f.pullPolicy,
    task_queue: flavourQueue(prefix, name),
  }));
  v1.get(
    '/v1/flavours',
    {
      schema: {
        summary: 'List the flavours and their limits',
        description: "Each flavour a submission may name: its resource limits (a submission's `limits` may only tighten them), its runtime, pull policy and task queue.",
        tags: [TAGS.discovery],
        security: platformSecurity,
        response: { 200: FlavourListSchema, ...errorResponses(401) },
      },
    },
    async () => ({ flavours }),
  );
}

/** GET /v1/version, public. */
export function registerVersionRoutes(app: FastifyInstance): void {
  app.get(
    '/v1/version',
    {
      schema: {
        summary: 'Versions of gradeflow, its API and its Temporal SDK',
        tags: [TAGS.discovery],
        security: publicSecurity,
        response: { 200: VersionSchema },
      },
    },
    async () => VERSIONS,
  );
}
