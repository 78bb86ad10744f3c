import { cancellationDetails, CancelledFailure } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type Dockerode from 'dockerode';
import { interpretOutcome } from '../../results/interpret';
import { ErrorTypes } from '../../shared/error-types';
import type { GradingSpec, StartedContainer } from '../../shared/activity-contracts';
import type { GradeResult } from '../../shared/types';
import { collectedOutputLimit, containerName } from './container-options';
import type { ContainerSlots } from './container-slots';
import { keepHeartbeating, type GradingScope } from '../heartbeat';
import { isDockerStatus } from './docker-status';
import type { OutputCollectors } from './output-collectors';

export interface SuperviseDeps {
  docker: Dockerode;
  slots: ContainerSlots;
  collectors: OutputCollectors;
}

/** This worker is shutting down: the container was left running for the next worker on this host. */
export class HandedOver extends Error {
  constructor(readonly started: StartedContainer) {
    super('grading host is shutting down; the container is handed over');
    this.name = 'HandedOver';
  }
}

/**
 * Wait for a started container, keeping the wall-clock limit from the moment it started (not from when
 * this began, so a worker restart never extends or shortens it), read its capped output, interpret it,
 * and remove it. On cancellation the container is killed and removed, except when this worker is
 * shutting down: then it is left running and HandedOver is thrown.
 */
export async function superviseContainer(deps: SuperviseDeps, ctx: GradingScope, spec: GradingSpec, started: StartedContainer): Promise<GradeResult> {
  const name = containerName(spec);
  const container = deps.docker.getContainer(started.containerId);
  deps.slots.adopt(name);
  let handOver = false;
  let removed = false;
  const lost = () => ApplicationFailure.nonRetryable(`container ${started.containerId} disappeared`, ErrorTypes.ContainerLost);
  const stopHeartbeat = keepHeartbeating(ctx, 1000, () => started);
  const limitMs = spec.limits.timeLimitSeconds * 1000;
  // Whether the wall-clock kill found the container still running (Docker answers 409 to one that ended).
  let timerKill: Promise<boolean> | undefined;
  const timer = setTimeout(() => {
    timerKill = container.kill().then(() => true, () => false);
  }, Math.max(0, Date.parse(started.startedAt) + limitMs - Date.now()));
  try {
    const collector = await deps.collectors.for(container, collectedOutputLimit(spec));
    await Promise.race([collector.finished, ctx.cancelled]);
    const info = await container.wait().then(() => container.inspect());
    const output = await collector.complete();
    // Removed by someone else meanwhile (by hand, a daemon restart): what it printed may be cut short,
    // so this is no result to charge a student with.
    if (info.State.Status === 'removing' || info.State.Dead) throw lost();
    // Over time: killed by this timer, or (Docker's own clock) ran for its whole limit, whoever stopped it
    // (a previous worker's timer, the reaper). One that ended before its limit was not, even if this
    // worker only looks at it later.
    const ranMs = Math.max(0, Date.parse(info.State.FinishedAt) - Date.parse(info.State.StartedAt));
    const killedByTimer = timerKill ? await timerKill : false;
    const result = interpretOutcome({
      exitCode: info.State.ExitCode,
      durationMs: ranMs,
      timedOut: killedByTimer || ranMs >= limitMs,
      oomKilled: info.State.OOMKilled,
      outputLimitExceeded: output.exceeded,
      timeLimitSeconds: spec.limits.timeLimitSeconds,
      memoryMb: spec.limits.memoryMb,
      outputLimitBytes: spec.limits.outputLimitBytes,
      stdoutText: output.text('stdout'),
      stderrText: output.text('stderr'),
      stdout: output.excerpt('stdout'),
      stderr: output.excerpt('stderr'),
    }, spec.grading);
    await container.remove({ force: true, v: true }).catch((err: unknown) => {
      if (isDockerStatus(err, 404) || isDockerStatus(err, 409)) throw lost();
      throw err;
    });
    removed = true;
    return result;
  } catch (err) {
    if (err instanceof CancelledFailure && cancellationDetails()?.workerShutdown) {
      handOver = true;
      throw new HandedOver(started);
    }
    if (isDockerStatus(err, 404)) throw lost();
    throw err;
  } finally {
    clearTimeout(timer);
    stopHeartbeat();
    deps.collectors.drop(started.containerId);
    if (!handOver) {
      if (!removed) await container.remove({ force: true, v: true }).catch(() => undefined);
      deps.slots.release(name);
    }
  }
}
