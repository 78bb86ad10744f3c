import { Context, cancellationDetails, CancelledFailure } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type Dockerode from 'dockerode';
import { interpretOutcome } from '../../results/interpret';
import { ErrorTypes } from '../../shared/error-types';
import type { GradeResult, GradingSpec, StartedContainer } from '../../shared/types';
import { containerName } from './container-options';
import type { ContainerSlots } from './container-slots';
import type { OutputCollectors } from './output-collectors';
import { isDockerStatus, keepHeartbeating } from './docker-errors';

export interface AwaitDeps {
  docker: Dockerode;
  slots: ContainerSlots;
  collectors: OutputCollectors;
}

/**
 * Activity (this host's queue): wait for the container, keeping the wall-clock limit from the moment it
 * started (not from when this activity began, so a worker restart never extends or shortens it), collect
 * its capped output, interpret it, and remove the container.
 *
 * On cancellation the container is killed and removed, except when this worker is shutting down: then it
 * is left running and the activity fails, so that the retry on this host's queue (a restarted worker)
 * picks up the same container where it is.
 */
export function createAwaitContainer(deps: AwaitDeps) {
  return async function awaitContainer(spec: GradingSpec, started: StartedContainer): Promise<GradeResult> {
    const ctx = Context.current();
    const name = containerName(spec);
    const container = deps.docker.getContainer(started.containerId);
    deps.slots.adopt(name);
    let handOver = false;
    let timedOut = false;
    const kill = (): void => {
      container.kill().catch(() => undefined);
    };
    const stopHeartbeat = keepHeartbeating(ctx, 1000, () => ({ containerId: started.containerId }));
    const deadline = Date.parse(started.startedAt) + spec.limits.timeLimitSeconds * 1000;
    const timer = setTimeout(
      () => {
        timedOut = true;
        kill();
      },
      Math.max(0, deadline - Date.now()),
    );
    try {
      const { output, finished } = await deps.collectors.for(container, spec.limits.outputLimitBytes);
      await Promise.race([finished, ctx.cancelled]);
      const info = await container.wait().then(() => container.inspect());
      // Past its deadline it was over time, whoever stopped it (this timer, a previous worker's, the reaper).
      const finishedAt = Date.parse(info.State.FinishedAt);
      const overTime = timedOut || finishedAt >= deadline;
      return interpretOutcome({
        exitCode: info.State.ExitCode,
        durationMs: Math.max(0, finishedAt - Date.parse(info.State.StartedAt)),
        timedOut: overTime,
        oomKilled: info.State.OOMKilled,
        outputLimitExceeded: output.exceeded,
        timeLimitSeconds: spec.limits.timeLimitSeconds,
        memoryMb: spec.limits.memoryMb,
        outputLimitBytes: spec.limits.outputLimitBytes,
        stdoutText: output.text('stdout'),
        stdout: output.excerpt('stdout'),
        stderr: output.excerpt('stderr'),
      });
    } catch (err) {
      if (err instanceof CancelledFailure && cancellationDetails()?.workerShutdown) {
        handOver = true;
        throw ApplicationFailure.retryable('grading host is shutting down; the container is handed over', 'WorkerShutdown');
      }
      if (isDockerStatus(err, 404)) {
        throw ApplicationFailure.retryable(`container ${started.containerId} disappeared`, ErrorTypes.ContainerLost);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      stopHeartbeat();
      deps.collectors.drop(started.containerId);
      if (!handOver) {
        await container.remove({ force: true, v: true }).catch((err: unknown) => {
          if (!isDockerStatus(err, 404)) throw err;
        });
        deps.slots.release(name);
      }
    }
  };
}
