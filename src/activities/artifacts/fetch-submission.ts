import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorTypes } from '../../shared/error-types';

export interface SubmissionSource {
  /** Base URL of a gradeflow server, e.g. http://127.0.0.1:3000 */
  serverUrl: string;
  /** Shared secret of grading hosts; never passed into a container. */
  workerToken: string;
}

/**
 * Fetch a submission's bytes from the server by content digest, and check the digest. Grading hosts
 * need no database and no shared filesystem: any host that can reach the API can grade.
 */
export async function fetchSubmission(source: SubmissionSource, sha256: string, signal?: AbortSignal): Promise<Buffer> {
  const url = `${source.serverUrl}/internal/v1/files/${sha256}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${source.workerToken}` }, signal });
  } catch (err) {
    throw ApplicationFailure.retryable(`cannot reach ${url}: ${(err as Error).message}`, ErrorTypes.SubmissionUnavailable);
  }
  if (!res.ok) {
    throw ApplicationFailure.retryable(`GET ${url} answered ${res.status}`, ErrorTypes.SubmissionUnavailable);
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== sha256) {
    throw ApplicationFailure.retryable(`file ${sha256} arrived with digest ${digest}`, ErrorTypes.SubmissionUnavailable);
  }
  return bytes;
}
