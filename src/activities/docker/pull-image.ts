import { ApplicationFailure } from '@temporalio/common';
import type Dockerode from 'dockerode';
import type { PullPolicy, RegistryConfig } from '../../config/schema';
import { registryCredentials, registryDomain, registryEntry } from '../../registry/registries';
import { parseImageReference } from '../../security/image-reference';
import { ErrorTypes } from '../../shared/error-types';
import { dockerMessage, isDockerStatus } from './docker-status';
import { countPull } from '../../metrics/image-pulls';

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

/** A pull the registry refused or could not answer; `answer` is its words as Docker passes them on. */
class PullRefused extends Error {
  constructor(readonly answer: string) {
    super(answer);
    this.name = 'PullRefused';
  }
}

/**
 * Whether the registry's answer is worth waiting out: it could not be reached (connection refused or reset,
 * no route, timeout) or answered 5xx / 429. An answer about the image or the credentials (401, 403,
 * manifest or repository unknown) stays the same however long one waits.
 */
export function isTransientPullFailure(answer: string): boolean {
  if (/unauthorized|authentication required|no basic auth credentials|denied|forbidden|manifest unknown|name unknown|not found|invalid reference/i.test(answer)) {
    return false;
  }
  return /connection refused|connection reset|broken pipe|no route to host|network is unreachable|i\/o timeout|timeout|timed out|deadline exceeded|unexpected EOF|\bEOF\b|\b5\d\d\b|service unavailable|bad gateway|internal server error|too ?many ?requests|\b429\b/i.test(
    answer,
  );
}

/** How a pull's tries are spaced: 1 s, doubling, at most 15 s apart. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 15_000;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * One pull of `image` into the host's daemon with the registry's credentials. Docker reports most failures
 * (401 unauthorized, manifest unknown, connection refused) in the progress stream rather than as the
 * call's status: both are read. Throws PullRefused with the registry's answer.
 */
async function pullOnce(
  docker: Dockerode,
  image: string,
  registries: readonly RegistryConfig[],
  progress: PullProgress,
  signal?: AbortSignal,
): Promise<void> {
  const domain = registryDomain(image)!;
  const creds = registryCredentials(registryEntry(registries, domain));
  const auth = creds ? { ...creds, serveraddress: domain } : undefined;
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await docker.createImage(auth as never, { fromImage: image, ...(signal ? { abortSignal: signal } : {}) })) as NodeJS.ReadableStream;
  } catch (err) {
    if (isDockerStatus(err, 404) || isDockerStatus(err, 500) || isDockerStatus(err, 401) || isDockerStatus(err, 403)) {
      // docker-modem prefixes the daemon's words with its own ("(HTTP code 500) server error - ").
      throw new PullRefused(dockerMessage(err).replace(/^\(HTTP code \d+\) [^-]*- /, '').trim());
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
  if (failure !== undefined) throw new PullRefused(failure);
}

/**
 * Pull `image`; a transient failure (isTransientPullFailure) is tried again with backoff for up to
 * `retrySeconds` (the host's `worker.pullRetrySeconds`), the activity heartbeating meanwhile. Throws
 * ImagePullFailed (non-retryable) naming the image and the registry's last answer.
 */
async function pullImage(
  docker: Dockerode,
  image: string,
  registries: readonly RegistryConfig[],
  progress: PullProgress,
  retrySeconds: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + retrySeconds * 1000;
  let wait = RETRY_FIRST_MS;
  for (let tries = 1; ; tries++) {
    progress.status = `pulling ${image}`;
    try {
      await pullOnce(docker, image, registries, progress, signal);
      progress.status = undefined;
      return;
    } catch (err) {
      if (!(err instanceof PullRefused)) throw err;
      const transient = isTransientPullFailure(err.answer);
      if (!transient) throw pullFailed(image, err.answer);
      // Tried until the window ends: the last try is at its end.
      const left = deadline - Date.now();
      if (left <= 0) {
        throw pullFailed(image, `${err.answer} (still failing after ${tries} ${tries === 1 ? 'try' : 'tries'} over ${retrySeconds} s)`);
      }
      const next = Math.min(wait, left);
      progress.status = `pulling ${image}: try ${tries} failed (${err.answer}); again in ${Math.ceil(next / 1000)} s`;
      await sleep(next, signal);
      wait = Math.min(wait * 2, RETRY_MAX_MS);
    }
  }
}

/**
 * Make the image present as the policy says, before the container slot is taken (a pull holds no slot, and
 * the grading's time limit starts with the container). `always`: pull; `if-missing`: pull when Docker
 * lacks it; `never`: nothing (a missing image is ImageNotFound when inspected). A transient pull failure
 * is tried again for `retrySeconds`.
 */
export async function ensureImage(
  docker: Dockerode,
  image: string,
  policy: PullPolicy,
  registries: readonly RegistryConfig[],
  progress: PullProgress,
  signal?: AbortSignal,
  retrySeconds = 0,
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
  await countPull(pullImage(docker, image, registries, progress, retrySeconds, signal));
}
