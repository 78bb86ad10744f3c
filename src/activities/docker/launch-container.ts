import { ApplicationFailure } from '@temporalio/common';
import type Dockerode from 'dockerode';
import type { ArchiveLimits } from '../../archives/read-archive';
import { ArchiveRejected } from '../../archives/safe-path';
import { submissionTar } from '../../archives/submission-tar';
import { ErrorTypes } from '../../shared/error-types';
import type { GradingSpec, StartedContainer } from '../../shared/activity-contracts';
import { submissionBytes, type SubmissionSource } from './submission-bytes';
import { containerLayout } from '../../results/container-layout';
import { collectedOutputLimit, containerName, containerOptions, type Isolation } from './container-options';
import { copyImageDir, putImageCopyFile } from './copy-image-dir';
import { submissionMetadata } from './grader-facts';
import type { GraderFacts } from '../../shared/grader-facts';
import type { ContainerSlots } from './container-slots';
import { keepHeartbeating, type GradingScope } from '../heartbeat';
import { dockerMessage, isDockerStatus, neverStarted } from './docker-status';
import { parseImageReference } from '../../security/image-reference';
import { imageIdentityProblem } from '../../security/image-policy';
import type { OutputCollectors } from './output-collectors';
import type { PullPolicy, RegistryConfig } from '../../config/schema';
import type { AnnounceStart } from './announce-start';
import { ensureImage, isPullable, type PullProgress } from './pull-image';

interface HostIdentity {
  hostId: string;
  hostQueue: string;
}

export interface LaunchDeps {
  docker: Dockerode;
  host: HostIdentity;
  slots: ContainerSlots;
  collectors: OutputCollectors;
  submissions: SubmissionSource;
  isolationFor(flavour: string): Isolation;
  /** The flavour's `pullPolicy` on this host. */
  pullPolicyFor(flavour: string): PullPolicy;
  /** This host's `registries` (credentials for pulls). */
  registries: readonly RegistryConfig[];
  /** This host's `worker.pullRetrySeconds`: how long a transient pull failure is tried again (0: not). */
  pullRetrySeconds?: number;
  archiveLimits: ArchiveLimits;
  /** What the grader is told about its grading (grader-facts.ts); undefined when nothing is known. */
  graderFacts(spec: GradingSpec, signal?: AbortSignal): Promise<GraderFacts | undefined>;
  /** Tells the workflow its container started (./announce-start.ts); absent: it learns it with the result. */
  announceStart?: AnnounceStart;
}

/** Copy the submission (a file, or an archive's checked entries) into the container's submission directory. */
async function copySubmission(
  container: Dockerode.Container,
  dir: string,
  file: { name: string; content: Buffer },
  limits: ArchiveLimits,
): Promise<void> {
  const tar = submissionTar(file, limits);
  try {
    await Promise.all([container.putArchive(tar.stream, { path: dir }), tar.done]);
  } catch (err) {
    const rejected = await tar.done.then(() => undefined, (e: unknown) => (e instanceof ArchiveRejected ? e : undefined));
    if (rejected) throw ApplicationFailure.nonRetryable(`file ${rejected.message}`, ErrorTypes.SubmissionRejected);
    throw err;
  }
}

/** An image's entrypoint or command as argv (Docker's shell form is a string). */
const asArgv = (v: string | string[] | null | undefined): string[] => (typeof v === 'string' ? ['/bin/sh', '-c', v] : (v ?? []));

/** The grader cannot run as named: a result for the instructor, not a fault to retry (see run-container.ts). */
const graderRejected = (message: string): ApplicationFailure => ApplicationFailure.nonRetryable(message, ErrorTypes.GraderRejected);

/** The submission's pull policy (from its assignment), else its flavour's on this host. */
const policyOf = (deps: LaunchDeps, spec: GradingSpec): PullPolicy => spec.grading.pullPolicy ?? deps.pullPolicyFor(spec.flavour);

/** The image is not on this host: another host may have it, so the workflow counts it as an infrastructure fault. */
const notOnHost = (deps: LaunchDeps, spec: GradingSpec): ApplicationFailure => {
  const why = !isPullable(spec.image, deps.registries)
    ? " (it names no registry listed in this host's registries: it is never pulled)"
    : policyOf(deps, spec) === 'never'
      ? ` (pull policy "never")`
      : '';
  return ApplicationFailure.nonRetryable(`image "${spec.image}" is not on grading host ${deps.host.hostId}${why}`, ErrorTypes.ImageNotFound);
};

/**
 * The image the submission names, as Docker has it, checked to really be that image: Docker reads a name
 * it has no tag for as an image-id prefix (`abcdef123456` finds whichever image's id starts so), so the
 * reference must be one of the image's tags (or repository digests, or its id). The API allowed the
 * reference for the platform; this makes sure the reference is what Docker ran.
 */
async function namedImage(deps: LaunchDeps, spec: GradingSpec): Promise<Dockerode.ImageInspectInfo> {
  if (!parseImageReference(spec.image)) throw graderRejected(`the grader image "${spec.image}" is not a valid image reference`);
  const image = await deps.docker
    .getImage(spec.image)
    .inspect()
    .catch((err: unknown) => {
      if (isDockerStatus(err, 404)) throw notOnHost(deps, spec);
      if (isDockerStatus(err, 400)) throw graderRejected(`Docker refused the grader image "${spec.image}": ${dockerMessage(err)}`);
      throw err;
    });
  const problem = imageIdentityProblem(spec.image, image);
  if (problem) throw graderRejected(`the grader image ${problem}`);
  return image;
}

/**
 * Create the hardened container with the submission in it, from the image checked by `namedImage` (by
 * its id, so a tag moved in between cannot change it). A previous try may have left one under the
 * same name: one that ran is adopted (its output is still to be read); one that never ran may lack the
 * submission, so it is replaced. Docker refusing the container (400: no command, a bad option from the
 * image) is the grader's fault.
 */
async function createOrAdopt(
  deps: LaunchDeps,
  spec: GradingSpec,
  bytes: Buffer,
  facts: GraderFacts | undefined,
): Promise<{ container: Dockerode.Container; adopted: boolean }> {
  const layout = containerLayout(spec.grading);
  const image = await namedImage(deps, spec);
  // A results file is read by a script that runs the image's own command.
  const imageCommand = layout.resultsFile && !layout.command ? [...asArgv(image.Config.Entrypoint), ...asArgv(image.Config.Cmd)] : [];
  const isolation = deps.isolationFor(spec.flavour);
  const options = { ...containerOptions(spec, deps.host.hostId, isolation, imageCommand, image.Config.User, facts), Image: image.Id };
  for (;;) {
    try {
      const container = await deps.docker.createContainer(options);
      await copyImageDir(container, layout, spec.limits.tmpfsMb * 1024 * 1024);
      if (layout.metadataFile) await putImageCopyFile(container, layout.metadataFile, JSON.stringify(submissionMetadata(facts, spec), null, 2));
      await copySubmission(container, layout.submissionDir, { name: spec.file.name, content: bytes }, deps.archiveLimits);
      return { container, adopted: false };
    } catch (err) {
      if (isDockerStatus(err, 404)) throw notOnHost(deps, spec);
      if (isDockerStatus(err, 400)) throw graderRejected(`Docker refused to create the grader's container (image "${spec.image}"): ${dockerMessage(err)}`);
      if (!isDockerStatus(err, 409)) throw err;
      const existing = deps.docker.getContainer(containerName(spec));
      const info = await existing.inspect();
      if (!neverStarted(info.State)) return { container: deps.docker.getContainer(info.Id), adopted: true };
      await existing.remove({ force: true, v: true });
    }
  }
}

/**
 * Fetch the submission, take a container slot on this host, create the hardened container, copy the submission in, attach to
 * its output (every byte is read, and the output cap holds from the first one), and start it. Idempotent:
 * a retry adopts the container a previous try started. On failure the container is removed and the
 * slot freed.
 */
export async function launchContainer(deps: LaunchDeps, ctx: GradingScope, spec: GradingSpec): Promise<StartedContainer> {
  const name = containerName(spec);
  const signal = ctx.cancellationSignal;
  // A pull says how far it is in the heartbeat's details (seen in Temporal's UI).
  const pull: PullProgress = {};
  const stopHeartbeat = keepHeartbeating(ctx, 1000, () => (pull.status ? { pull: pull.status } : undefined));
  // Fetched and pulled before the slot is free: a grading waiting for a slot is ready to go the moment it is.
  let bytes: Buffer;
  let facts: GraderFacts | undefined;
  try {
    bytes = await submissionBytes(deps.submissions, spec.file, signal);
    facts = await deps.graderFacts(spec, signal);
    if (parseImageReference(spec.image)) await ensureImage(deps.docker, spec.image, policyOf(deps, spec), deps.registries, pull, signal, deps.pullRetrySeconds);
  } catch (err) {
    stopHeartbeat();
    throw err;
  }
  await deps.slots.acquire(name, signal);
  let container: Dockerode.Container | undefined;
  try {
    const made = await createOrAdopt(deps, spec, bytes, facts);
    container = made.container;
    const host = { hostId: deps.host.hostId, hostQueue: deps.host.hostQueue };
    if (!made.adopted) {
      await deps.collectors.attach(container, collectedOutputLimit(spec));
      await container.start().catch((err: unknown) => {
        if (isDockerStatus(err, 400)) throw graderRejected(`Docker could not start the grader (image "${spec.image}"): ${dockerMessage(err)}`);
        throw err;
      });
      // Started no later than now: the wall-clock kill counts from here (this host's clock; no inspect call).
      return { ...host, containerId: container.id, startedAt: new Date().toISOString() };
    }
    const info = await container.inspect();
    return { ...host, containerId: info.Id, startedAt: info.State.StartedAt };
  } catch (err) {
    deps.slots.release(name);
    if (container) deps.collectors.drop(container.id);
    await deps.docker
      .getContainer(name)
      .remove({ force: true, v: true })
      .catch(() => undefined);
    throw err;
  } finally {
    stopHeartbeat();
  }
}
