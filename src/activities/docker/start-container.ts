import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type Dockerode from 'dockerode';
import { ErrorTypes } from '../../shared/error-types';
import type { GradingSpec, StartedContainer } from '../../shared/types';
import type { ArchiveLimits } from '../../archives/read-archive';
import { ArchiveRejected } from '../../archives/safe-path';
import { submissionTar } from '../../archives/submission-tar';
import { fetchSubmission, type SubmissionSource } from '../artifacts/fetch-submission';
import { containerName, containerOptions, SUBMISSION_DIR, type Isolation } from './container-options';
import type { ContainerSlots } from './container-slots';
import type { OutputCollectors } from './output-collectors';
import { isDockerStatus, keepHeartbeating } from './docker-errors';

export interface HostIdentity {
  hostId: string;
  hostQueue: string;
}

export interface StartDeps {
  docker: Dockerode;
  host: HostIdentity;
  slots: ContainerSlots;
  collectors: OutputCollectors;
  submissions: SubmissionSource;
  isolationFor(flavour: string): Isolation;
  archiveLimits: ArchiveLimits;
}

/** Copy the submission (a file, or an archive's checked entries) into the container's submission directory. */
async function copySubmission(container: Dockerode.Container, file: { name: string; content: Buffer }, limits: ArchiveLimits): Promise<void> {
  const tar = submissionTar(file, limits);
  try {
    await Promise.all([container.putArchive(tar.stream, { path: SUBMISSION_DIR }), tar.done]);
  } catch (err) {
    const rejected = await tar.done.then(() => undefined, (e: unknown) => (e instanceof ArchiveRejected ? e : undefined));
    if (rejected) throw ApplicationFailure.nonRetryable(`file ${rejected.message}`, ErrorTypes.SubmissionRejected);
    throw err;
  }
}

/** Docker reports a container that never ran with the zero time "0001-01-01T00:00:00Z". */
function neverStarted(info: Dockerode.ContainerInspectInfo): boolean {
  return !info.State.Running && info.State.StartedAt.startsWith('0001-');
}

/** Find the container a previous try of this activity may already have created. */
async function existingContainer(docker: Dockerode, name: string): Promise<Dockerode.ContainerInspectInfo | undefined> {
  try {
    return await docker.getContainer(name).inspect();
  } catch (err) {
    if (isDockerStatus(err, 404)) return undefined;
    throw err;
  }
}

/**
 * Activity (flavour queue): take a container slot on this host, create the hardened container, copy the
 * submission in, start it, and answer with this host's queue so the workflow awaits it here.
 * Idempotent: a retry finds the container by its deterministic name.
 */
export function createStartContainer(deps: StartDeps) {
  return async function startContainer(spec: GradingSpec): Promise<StartedContainer> {
    const ctx = Context.current();
    const name = containerName(spec);
    const stopHeartbeat = keepHeartbeating(ctx, 1000);
    try {
      await deps.slots.acquire(name, ctx.cancellationSignal);
      let info = await existingContainer(deps.docker, name);
      if (!info) {
        try {
          await deps.docker.getImage(spec.image).inspect();
        } catch (err) {
          if (isDockerStatus(err, 404)) {
            throw ApplicationFailure.nonRetryable(
              `image "${spec.image}" is not on grading host ${deps.host.hostId}`,
              ErrorTypes.ImageNotFound,
            );
          }
          throw err;
        }
        const bytes = await fetchSubmission(deps.submissions, spec.file.sha256, ctx.cancellationSignal);
        const container = await deps.docker.createContainer(
          containerOptions(spec, deps.host.hostId, deps.isolationFor(spec.flavour)),
        );
        await copySubmission(container, { name: spec.file.name, content: bytes }, deps.archiveLimits);
        info = await container.inspect();
      }
      const container = deps.docker.getContainer(info.Id);
      if (neverStarted(info)) {
        await container.start();
        // Read its output from the first byte: the output cap holds before the await activity begins.
        await deps.collectors.for(container, spec.limits.outputLimitBytes);
        info = await container.inspect();
      }
      return {
        hostId: deps.host.hostId,
        hostQueue: deps.host.hostQueue,
        containerId: info.Id,
        startedAt: info.State.StartedAt,
      };
    } catch (err) {
      deps.slots.release(name);
      const created = await existingContainer(deps.docker, name).catch(() => undefined);
      if (created) deps.collectors.drop(created.Id);
      await deps.docker
        .getContainer(name)
        .remove({ force: true, v: true })
        .catch(() => undefined);
      throw err;
    } finally {
      stopHeartbeat();
    }
  };
}
