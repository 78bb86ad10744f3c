import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import git, { Errors } from 'isomorphic-git';
import type { GitHookServerConfig } from '../config/schema';
import { checkCallbackUrl } from '../security/callback-url';
import { commitTar, TreeTooLarge } from './commit-archive';
import { FetchSlots, SlotTimeout } from './fetch-slots';
import { FetchTooLarge, guardedGitHttp } from './guarded-http';

/** Why a commit could not be fetched: `unavailable` is worth repeating (503), the others are not. */
export type FetchFailure = 'unavailable' | 'forbidden_address' | 'repository_not_readable' | 'commit_not_found' | 'too_large';

export class CommitFetchError extends Error {
  constructor(readonly reason: FetchFailure, message: string) {
    super(message);
    this.name = 'CommitFetchError';
  }
}

/** How far back a commit is looked for when the branch has moved on since the push (a second, deeper fetch). */
const DEEPEN_ON_MISS = 50;

/** The repository's URL on the configured git server: never a URL from the hook's body. */
function repositoryUrl(server: Pick<GitHookServerConfig, 'gitUrl'>, repository: string): string {
  return `${server.gitUrl.replace(/\/+$/, '')}/${repository}.git`;
}

function authorization(server: GitHookServerConfig): Record<string, string> {
  const password = server.passwordEnv !== undefined ? process.env[server.passwordEnv] : server.password;
  if (password === undefined && server.username === undefined) return {};
  return { authorization: `Basic ${Buffer.from(`${server.username ?? ''}:${password ?? ''}`).toString('base64')}` };
}

async function hasCommit(gitdir: string, oid: string): Promise<boolean> {
  try {
    await git.readCommit({ fs, gitdir, oid });
    return true;
  } catch (err) {
    if (err instanceof Errors.NotFoundError) return false;
    throw err;
  }
}

function classify(err: unknown, signal: AbortSignal): CommitFetchError {
  if (err instanceof CommitFetchError) return err;
  if (err instanceof FetchTooLarge || err instanceof TreeTooLarge) return new CommitFetchError('too_large', err.message);
  if (err instanceof Errors.HttpError) {
    const status = err.data.statusCode;
    if (status === 401 || status === 403 || status === 404) {
      return new CommitFetchError('repository_not_readable', `the git server answered ${status} (check the credentials and the repository's path)`);
    }
    return new CommitFetchError('unavailable', `the git server answered ${status}`);
  }
  if (err instanceof Errors.NotFoundError) return new CommitFetchError('commit_not_found', 'the branch is no longer on the git server');
  if (err instanceof SlotTimeout) return new CommitFetchError('unavailable', `${err.message}; none could start in time`);
  if (signal.aborted) return new CommitFetchError('unavailable', 'the git server did not answer in time');
  return new CommitFetchError('unavailable', `the git server could not be read (${(err as Error)?.name ?? 'error'})`);
}

/**
 * The tree of commit `oid` of `repository`'s `branch`, fetched over git's smart HTTP protocol from the
 * platform's git server (a shallow fetch of depth 1; deeper, once, when the branch has moved on since the
 * push), as a tar of at most `maxBytes`. The URL is checked by the callbacks' SSRF rules before the fetch
 * and every connection again at connect time. Credentials travel in a header, never in the URL (so never
 * in an error message). The local copy lives in a temporary directory, removed afterwards.
 */
export async function fetchCommitTar(server: GitHookServerConfig, repository: string, branch: string, oid: string, maxBytes: number): Promise<Buffer> {
  const url = repositoryUrl(server, repository);
  const problem = await checkCallbackUrl(url, server.allowLoopback);
  if (problem) throw new CommitFetchError('forbidden_address', `the git server's URL ${problem}`);
  const signal = AbortSignal.timeout(server.fetchTimeoutMs);
  try {
    return await slotsOf(server).run(signal, () => fetchInto(server, url, signal, repository, branch, oid, maxBytes));
  } catch (err) {
    throw classify(err, signal);
  }
}

/** Each git server's fetch slots (by its configuration object), shared by its hooks in this process. */
const slots = new WeakMap<GitHookServerConfig, FetchSlots>();
function slotsOf(server: GitHookServerConfig): FetchSlots {
  let s = slots.get(server);
  if (!s) slots.set(server, (s = new FetchSlots(server.maxConcurrentFetches)));
  return s;
}

async function fetchInto(server: GitHookServerConfig, url: string, signal: AbortSignal, repository: string, branch: string, oid: string, maxBytes: number): Promise<Buffer> {
  const http = guardedGitHttp({ allowLoopback: server.allowLoopback, signal, maxBytes: server.maxFetchBytes });
  const gitdir = await mkdtemp(path.join(os.tmpdir(), 'gradeflow-git-'));
  try {
    await git.init({ fs, gitdir, bare: true });
    await git.addRemote({ fs, gitdir, remote: 'origin', url });
    const fetchAt = (depth: number) =>
      git.fetch({ fs, http, gitdir, remote: 'origin', ref: branch, remoteRef: branch, singleBranch: true, depth, tags: false, headers: authorization(server) });
    await fetchAt(1);
    if (!(await hasCommit(gitdir, oid))) await fetchAt(DEEPEN_ON_MISS);
    if (!(await hasCommit(gitdir, oid))) {
      throw new CommitFetchError('commit_not_found', `the commit is not among the branch's last ${DEEPEN_ON_MISS} commits on the git server`);
    }
    return await commitTar(gitdir, oid, maxBytes);
  } finally {
    await rm(gitdir, { recursive: true, force: true });
  }
}
