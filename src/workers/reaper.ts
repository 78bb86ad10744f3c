import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type Dockerode from 'dockerode';
import type { Logger } from 'pino';
import { LABELS } from '../activities/docker/container-options';
import { dockerStartedAt } from '../activities/docker/docker-status';
import type { ContainerSlots } from '../activities/docker/container-slots';
import type { OutputCollectors } from '../activities/docker/output-collectors';
import { gradingInProgress } from '../shared/grading-in-progress';
import type { Phase } from '../shared/types';
import { statusQuery } from '../workflows/messages';
import { periodic } from '../shared/periodic';

/** What the reaper knows of one gradeflow container on this host. */
export interface ContainerFacts {
  name: string;
  /** The host this reaper runs on (the container's label says the same). */
  host: string;
  workflowId?: string;
  attempt: number;
  running: boolean;
  startedAt?: Date;
  timeLimitSeconds?: number;
}

/** What Temporal says of the workflow named on the container. `attempt` is absent when it cannot be asked. */
export type WorkflowFacts =
  | { state: 'gone' }
  | { state: 'closed' }
  | { state: 'running'; attempt?: number; phase?: Phase; gradingOn?: string }
  | { state: 'unknown' };

export type Verdict = { action: 'keep' | 'remove' | 'kill'; why: string };

/**
 * Pure: what to do with one container. It is removed only when no live workflow can still want it (the
 * workflow is gone or closed, or has moved past this attempt, or past grading it); a live grading's
 * container is kept, unless it has run far beyond its time limit, when it is killed (not removed: its
 * owner, if it comes back, still reads what it printed). `overdueSeconds` (`worker.reapOverdueSeconds`): a
 * container still running this long after its time limit has nobody left to kill it.
 */
export function verdict(c: ContainerFacts, w: WorkflowFacts, now: Date, overdueSeconds: number): Verdict {
  if (w.state === 'gone') return { action: 'remove', why: 'its workflow does not exist' };
  if (w.state === 'closed') return { action: 'remove', why: 'its workflow has closed' };
  if (w.state === 'running' && w.attempt !== undefined) {
    if (w.attempt > c.attempt) return { action: 'remove', why: `its workflow is at attempt ${w.attempt}` };
    if (w.attempt === c.attempt && (w.phase === 'delivering' || w.phase === 'completed' || w.phase === 'failed')) {
      return { action: 'remove', why: 'its attempt is already graded' };
    }
    if (w.attempt === c.attempt && w.gradingOn !== undefined && w.gradingOn !== c.host) {
      return { action: 'remove', why: `its attempt is being graded on host ${w.gradingOn}` };
    }
  }
  if (c.running && c.startedAt && c.timeLimitSeconds !== undefined) {
    const overdue = (now.getTime() - c.startedAt.getTime()) / 1000 - c.timeLimitSeconds;
    if (overdue > overdueSeconds) return { action: 'kill', why: `running ${Math.round(overdue)} s past its time limit` };
  }
  return { action: 'keep', why: 'a live grading owns it' };
}

function facts(host: string, info: Dockerode.ContainerInfo, inspect: Dockerode.ContainerInspectInfo): ContainerFacts {
  const labels = info.Labels ?? {};
  const limit = Number(labels[LABELS.timeLimit]);
  const startedAt = dockerStartedAt(inspect.State);
  return {
    name: (info.Names[0] ?? info.Id).replace(/^\//, ''),
    host,
    ...(labels[LABELS.workflow] ? { workflowId: labels[LABELS.workflow] } : {}),
    attempt: Number(labels[LABELS.attempt] ?? 0),
    running: inspect.State.Running,
    ...(startedAt ? { startedAt } : {}),
    ...(Number.isFinite(limit) ? { timeLimitSeconds: limit } : {}),
  };
}

async function lookUp(client: Client, workflowId: string | undefined): Promise<WorkflowFacts> {
  if (!workflowId) return { state: 'gone' }; // made before containers named their workflow
  const handle = client.workflow.getHandle(workflowId);
  let gradingOn: string | undefined;
  try {
    const info = await handle.describe();
    if (info.status.name !== 'RUNNING') return { state: 'closed' };
    gradingOn = gradingInProgress(info.raw)?.host;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { state: 'gone' };
    return { state: 'unknown' };
  }
  try {
    const progress = await handle.query(statusQuery);
    return { state: 'running', attempt: progress.attempt, phase: progress.phase, ...(gradingOn ? { gradingOn } : {}) };
  } catch {
    return { state: 'running' };
  }
}

export interface ReaperDeps {
  docker: Dockerode;
  client: Client;
  hostId: string;
  slots: ContainerSlots;
  collectors: OutputCollectors;
  logger: Logger;
  /** `worker.reapOverdueSeconds`. */
  overdueSeconds: number;
}

/**
 * Removes this host's gradeflow containers that no live workflow waits for (left by a crash, a lost
 * host or a failed removal), at start and then periodically.
 */
export function createReaper(deps: ReaperDeps) {
  async function sweep(now = new Date()): Promise<Array<{ name: string } & Verdict>> {
    const list = await deps.docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.managed}=true`, `${LABELS.host}=${deps.hostId}`] },
    });
    const done: Array<{ name: string } & Verdict> = [];
    for (const info of list) {
      const container = deps.docker.getContainer(info.Id);
      try {
        const c = facts(deps.hostId, info, await container.inspect());
        const v = verdict(c, await lookUp(deps.client, c.workflowId), now, deps.overdueSeconds);
        if (v.action === 'remove') {
          await container.remove({ force: true, v: true });
          deps.collectors.drop(info.Id);
          deps.slots.release(c.name);
        } else if (v.action === 'kill' && c.running) {
          await container.kill();
        }
        if (v.action !== 'keep') deps.logger.warn({ container: c.name, action: v.action }, `reaper: ${v.why}`);
        done.push({ name: c.name, ...v });
      } catch (err) {
        // Removed meanwhile by its own grading, or Docker hiccuped: the next sweep looks again.
        deps.logger.debug({ container: info.Id, err }, 'reaper: skipped a container');
      }
    }
    return done;
  }

  const loop = periodic(() => sweep(), (err) => deps.logger.warn({ err }, 'reaper: sweep failed'));
  return {
    sweep,
    start: (intervalSeconds: number): void => loop.start(intervalSeconds * 1000),
    stop: loop.stop,
  };
}

export type Reaper = ReturnType<typeof createReaper>;
