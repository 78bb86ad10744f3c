import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { GitHookServerConfig, PlatformConfig } from '../../config/schema';
import { inlineBytes } from '../../control/workflow-input';
import { CommitFetchError, fetchCommitTar } from '../../git/fetch-commit';
import { branchOf, isDeletion, type GitPlatformKind, type PushEvent } from '../../git/push-event';
import { branchMatches, repositoryMatches } from '../../git/repository-patterns';
import { sha256Hex } from '../../shared/sha256';
import { publicStatus } from '../../shared/status';
import { submissionWorkflowId } from '../../shared/workflow-ids';
import type { Assignment } from '../../store/assignments';
import type { GitHookRecord } from '../../store/git-hooks';
import type { AppDeps } from '../deps';
import { ApiError } from '../errors';
import { checkId, validateSubmission } from '../intake';
import { pinnedImage } from './submissions';

export type PushDeps = Pick<AppDeps, 'config' | 'store' | 'gitHooks' | 'starter'>;

/** What a hook is answered: a submission (202 new, 200 a repeat), or 202 with why the push is not graded. */
export interface PushAnswer {
  status: 200 | 202;
  body: { id?: string; work_id?: string; status?: string; duplicate?: boolean; ignored_reason?: string; message?: string };
}

/** Seconds GitLab or GitHub (or whoever repeats the delivery) should wait when the git server could not be read. */
const GIT_RETRY_AFTER_S = 30;

/**
 * The work_id of a pushed commit: the commit and a digest of the repository's path (lower case: GitLab and
 * GitHub paths ignore case), so that the same commit in two students' forks is two submissions, and no
 * username reaches the workflow id, which Temporal shows and logs.
 */
export function pushWorkId(repository: string, commit: string): string {
  return `push-${sha256Hex(repository.toLowerCase()).slice(0, 16)}-${commit}`;
}

/** The student a push belongs to: its pusher's username, or the repository's namespace (config `studentId`). */
function studentOf(push: PushEvent, server: GitHookServerConfig): string | undefined {
  const raw = server.studentId === 'namespace' ? push.repository.slice(0, push.repository.lastIndexOf('/')) : push.pusher;
  if (raw === undefined) return undefined;
  try {
    return checkId(raw, 'student_id');
  } catch {
    return undefined;
  }
}

function ignored(reason: string, message: string): PushAnswer {
  return { status: 202, body: { ignored_reason: reason, message } };
}

/** The one assignment whose repository patterns match, or why there is none. */
function mappedAssignment(assignments: Assignment[], repository: string): Assignment | PushAnswer {
  const matching = assignments.filter((a) => repositoryMatches(a.settings.repositories ?? [], repository));
  if (matching.length === 0) return ignored('repository_not_mapped', 'no assignment of this platform names this repository');
  if (matching.length > 1) {
    return ignored('repository_ambiguous', `the repository matches ${matching.length} assignments' patterns (${matching.map((a) => a.assignmentId).join(', ')}); make them disjoint`);
  }
  return matching[0]!;
}

/**
 * A verified push: mapped to its assignment and branch, its commit fetched from the platform's git server,
 * and submitted through the normal intake (validation, image pinning, storage, workflow start).
 */
async function answerPush(deps: PushDeps, platform: PlatformConfig, server: GitHookServerConfig, push: PushEvent, record: GitHookRecord): Promise<PushAnswer> {
  const branch = branchOf(push.ref);
  if (branch === undefined) return ignored('not_a_branch', 'only pushes to branches are graded');
  if (isDeletion(push)) return ignored('branch_deleted', 'the push deleted the branch');
  const found = mappedAssignment(await deps.gitHooks.mappedAssignments(platform.id), push.repository);
  if (!('assignmentId' in found)) return found;
  record.assignmentId = found.assignmentId;
  const branches = found.settings.branches ?? (push.defaultBranch ? [push.defaultBranch] : ['main', 'master']);
  if (!branchMatches(branches, branch)) return ignored('branch_not_configured', `the assignment grades pushes to ${branches.join(', ')}`);
  const studentId = studentOf(push, server);
  if (studentId === undefined) return ignored('no_student_id', `the push names no usable ${server.studentId === 'namespace' ? 'namespace' : 'pusher username'}`);

  const workId = pushWorkId(push.repository, push.after);
  // A repeated delivery: answered from the record, without fetching the commit again.
  const earlier = await deps.gitHooks.submissionOfWork(platform.id, workId);
  if (earlier) {
    record.submissionId = earlier.id;
    return { status: 200, body: { id: earlier.id, work_id: workId, status: publicStatus(earlier.status as never), duplicate: true } };
  }
  let content: Buffer;
  try {
    content = await fetchCommitTar(server, push.repository, branch, push.after, deps.config.api.maxFileBytes);
  } catch (err) {
    if (!(err instanceof CommitFetchError)) throw err;
    if (err.reason === 'unavailable') throw new ApiError(503, 'git_unavailable', `${err.message}; deliver the hook again later`, undefined, GIT_RETRY_AFTER_S);
    return ignored(err.reason, err.message);
  }
  const name = `${push.repository.slice(push.repository.lastIndexOf('/') + 1)}.tar`;
  let valid;
  try {
    valid = await validateSubmission(
      { work_id: workId, assignment_id: found.assignmentId, student_id: studentId, file: { name: /^[A-Za-z0-9_]/.test(name) ? name : 'repository.tar', content } },
      platform,
      deps.config,
      found.settings,
    );
  } catch (err) {
    if (!(err instanceof ApiError) || err.statusCode >= 500) throw err;
    return ignored(err.code === 'invalid_archive' ? 'invalid_archive' : 'invalid_submission', err.message);
  }
  valid.image = await pinnedImage(valid.image, deps.config);
  const id = randomUUID();
  const { submission, created } = await deps.store.create({ id, platformId: platform.id, workflowId: submissionWorkflowId(platform.id, { id, workId }), ...valid });
  if (submission.status === 'received') deps.starter.enqueue(submission, created ? inlineBytes(valid.file.content, deps.config) : undefined);
  record.submissionId = submission.id;
  return {
    status: created ? 202 : 200,
    body: { id: submission.id, work_id: workId, status: publicStatus(created ? 'received' : submission.status), duplicate: !created },
  };
}

/**
 * Answer a verified push hook and record it (table `git_hooks`, one log line): the outcome, the commit, a
 * digest of the repository's path; never the path, the pusher or the code.
 */
export async function handlePush(
  deps: PushDeps,
  log: FastifyBaseLogger,
  hook: { platform: PlatformConfig; kind: GitPlatformKind; server: GitHookServerConfig; deliveryId?: string },
  push: PushEvent,
): Promise<PushAnswer> {
  const record: GitHookRecord = {
    platformId: hook.platform.id,
    kind: hook.kind,
    repositorySha256: sha256Hex(push.repository.toLowerCase()),
    ref: push.ref,
    commitSha: push.after,
    outcome: 'error',
    ...(hook.deliveryId ? { deliveryId: hook.deliveryId } : {}),
  };
  try {
    const answer = await answerPush(deps, hook.platform, hook.server, push, record);
    record.outcome = answer.body.ignored_reason ?? (answer.body.duplicate ? 'duplicate' : 'submitted');
    return answer;
  } catch (err) {
    if (err instanceof ApiError) record.outcome = err.code;
    throw err;
  } finally {
    log.info({ platform: hook.platform.id, kind: hook.kind, delivery: hook.deliveryId, outcome: record.outcome, submission: record.submissionId }, 'git hook');
    await deps.gitHooks.record(record).catch((err: unknown) => log.error({ err }, 'git hook not recorded'));
  }
}
