import { ApplicationFailure } from '@temporalio/common';
import type Dockerode from 'dockerode';
import type { PullPolicy, RegistryConfig } from '../../config/schema';
import { registryCredentials, registryDomain, registryEntry } from '../../registry/registries';
import { parseImageReference } from '../../security/image-reference';
import { ErrorTypes } from '../../shared/error-types';
import { dockerMessage, isDockerStatus } from './docker-status';

/**
 * Pulls on a grading host, by the pull policy. Only references that name a registry listed in `registries`
 * (`registry.example.edu:5000/cs101/sum@sha256:…`) are pulled; any other name (`gradeflow/example-sum:2`)
 * is an image local to the host, as before pulls existed: it is never pulled (policy `never` for it).
 * The credentials come from this host's `registries` config and go to the Docker daemon only.
 */

/** What a pull is doing, for the activity's heartbeat details. */
export interface PullProgress {
  status?: string;
}

/** Whether this host would ever pull the image: it names a registry listed in this host's `registries`. */
export function isPullable(image: string, registries: readonly RegistryConfig[]): boolean {
  const ref = parseImageReference(image);
  const domain = registryDomain(image);
  return ref?.kind === 'named' && domain !== undefined && registryEntry(registries, domain) !== undefined;
}

/** A pull that failed: the image and the registry's answer, for the result; the workflow counts it an infrastructure fault. */
const pullFailed = (image: string, answer: string): ApplicationFailure =>
  ApplicationFailure.nonRetryable(`could not pull image "${image}": ${answer}`, ErrorTypes.ImagePullFailed);

/**
 * Pull `image` into the host's daemon with the registry's credentials. Docker reports most failures
 * (401 unauthorized, manifest unknown, connection refused) in the progress stream rather than as the
 * call's status: both are read. Throws ImagePullFailed.
 */
async function pullImage(
  docker: Dockerode,
  image: string,
  registries: readonly RegistryConfig[],
  progress: PullProgress,
  signal?: AbortSignal,
): Promise<void> {
  const domain = registryDomain(image)!;
  const creds = registryCredentials(registryEntry(registries, domain));
  const auth = creds ? { ...creds, serveraddress: domain } : undefined;
  progress.status = `pulling ${image}`;
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await docker.createImage(auth as never, { fromImage: image, ...(signal ? { abortSignal: signal } : {}) })) as NodeJS.ReadableStream;
  } catch (err) {
    if (isDockerStatus(err, 404) || isDockerStatus(err, 500) || isDockerStatus(err, 401) || isDockerStatus(err, 403)) {
      // docker-modem prefixes the daemon's words with its own ("(HTTP code 500) server error - ").
      throw pullFailed(image, dockerMessage(err).replace(/^\(HTTP code \d+\) [^-]*- /, '').trim());
    }
    throw err;
  }
  const failure = await new Promise<string | undefined>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null) => (err ? reject(err) : resolve(undefined)),
      (event: { status?: string; id?: string; error?: string; errorDetail?: { message?: string } }) => {
        if (event.error || event.errorDetail) resolve(event.errorDetail?.message ?? event.error);
        else if (event.status) progress.status = `pulling ${image}: ${event.id ? `${event.id} ` : ''}${event.status}`;
      },
    );
  });
  progress.status = undefined;
  if (failure !== undefined) throw pullFailed(image, failure);
}

/**
 * Make the image present as the policy says, before the container slot is taken (a pull holds no slot, and
 * the grading's time limit starts with the container). `always`: pull; `if-missing`: pull when Docker
 * lacks it; `never`: nothing (a missing image is ImageNotFound when inspected).
 */
export async function ensureImage(
  docker: Dockerode,
  image: string,
  policy: PullPolicy,
  registries: readonly RegistryConfig[],
  progress: PullProgress,
  signal?: AbortSignal,
): Promise<void> {
  if (policy === 'never' || !isPullable(image, registries)) return;
  if (policy === 'if-missing') {
    const present = await docker
      .getImage(image)
      .inspect()
      .then(
        () => true,
        (err: unknown) => {
          if (isDockerStatus(err, 404)) return false;
          throw err;
        },
      );
    if (present) return;
  }
  await pullImage(docker, image, registries, progress, signal);
}
