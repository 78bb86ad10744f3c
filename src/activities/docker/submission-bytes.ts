import { ApplicationFailure } from '@temporalio/common';
import { ErrorTypes } from '../../shared/error-types';
import { sha256Hex } from '../../shared/sha256';
import type { SubmissionFileRef } from '../../shared/types';

export interface SubmissionSource {
  /** Base URL of a gradeflow server, e.g. http://127.0.0.1:3000 */
  serverUrl: string;
  /** Shared secret of grading hosts; never passed into a container. */
  workerToken: string;
}

/**
 * A submission's bytes: those carried in the activity input when the file is small, else fetched from
 * the server. Either way the digest is checked.
 */
export async function submissionBytes(source: SubmissionSource, file: SubmissionFileRef, signal?: AbortSignal): Promise<Buffer> {
  if (file.inlineBase64 === undefined) return fetchSubmission(source, file.sha256, signal);
  const bytes = Buffer.from(file.inlineBase64, 'base64');
  const digest = sha256Hex(bytes);
  if (digest !== file.sha256) {
    throw ApplicationFailure.nonRetryable(`the file carried inline has digest ${digest}, not ${file.sha256}`, ErrorTypes.SubmissionUnavailable);
  }
  return bytes;
}

/**
 * Fetch a submission's bytes from the server by content digest, and check the digest. Grading hosts
 * need no database and no shared filesystem: any host that can reach the API can grade.
 */
async function fetchSubmission(source: SubmissionSource, sha256: string, signal?: AbortSignal): Promise<Buffer> {
  const url = `${source.serverUrl}/internal/v1/files/${sha256}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${source.workerToken}` }, signal });
  } catch (err) {
    throw ApplicationFailure.retryable(`cannot reach ${url}: ${(err as Error).message}`, ErrorTypes.SubmissionUnavailable);
  }
  if (res.status === 404) throw ApplicationFailure.nonRetryable(`the server has no file ${sha256} (removed by gradeflow prune past its retention?)`, ErrorTypes.SubmissionUnavailable);
  if (!res.ok) {
    throw ApplicationFailure.retryable(`GET ${url} answered ${res.status}`, ErrorTypes.SubmissionUnavailable);
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  const digest = sha256Hex(bytes);
  if (digest !== sha256) {
    throw ApplicationFailure.retryable(`file ${sha256} arrived with digest ${digest}`, ErrorTypes.SubmissionUnavailable);
  }
  return bytes;
}
