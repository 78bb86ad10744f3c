/** The git servers whose push webhooks gradeflow understands. */
export type GitPlatformKind = 'gitlab' | 'github';

/** What gradeflow needs from a push event, the same for GitLab and GitHub. */
export interface PushEvent {
  /** The repository's path with its namespace: `course/lab1-alice`. */
  repository: string;
  /** The full ref pushed: `refs/heads/main`. */
  ref: string;
  /** The commit the ref points to after the push; all zeros when the push deleted the ref. */
  after: string;
  /** The repository's default branch, as the event names it. */
  defaultBranch?: string;
  /** The username of who pushed. */
  pusher?: string;
}

/** A field of the event that is missing or malformed: the route answers 400 naming it. */
export class PushEventInvalid extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field} ${message}`);
    this.name = 'PushEventInvalid';
  }
}

const SHA_RE = /^[0-9a-f]{40}([0-9a-f]{24})?$/; // SHA-1, or SHA-256 repositories
const SEGMENT_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;
const USERNAME_RE = /^[\x21-\x7e]{1,200}$/;
const REF_RE = /^refs\/[\x21-\x7e]{1,250}$/;

function at(body: unknown, path: string): unknown {
  let value: unknown = body;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function required(body: unknown, field: string, re: RegExp, what: string): string {
  const value = at(body, field);
  if (typeof value !== 'string' || !re.test(value)) throw new PushEventInvalid(field, `must be ${what}`);
  return value;
}

function optional(body: unknown, field: string, re: RegExp): string | undefined {
  const value = at(body, field);
  return typeof value === 'string' && re.test(value) ? value : undefined;
}

function repositoryPath(body: unknown, field: string): string {
  const value = at(body, field);
  const segments = typeof value === 'string' && value.length <= 255 ? value.split('/') : [];
  if (segments.length < 2 || !segments.every((s) => SEGMENT_RE.test(s) && !s.endsWith('.git') && !s.includes('..'))) {
    throw new PushEventInvalid(field, 'must be a repository path with its namespace ("course/lab1-alice")');
  }
  return value as string;
}

/**
 * The push in a hook's body, or undefined when the hook is another event (GitHub's `ping`, a GitLab tag or
 * merge request hook…). GitLab: `X-Gitlab-Event: Push Hook` (or a system hook) with `object_kind: push`;
 * GitHub: `X-GitHub-Event: push`.
 */
export function readPushEvent(kind: GitPlatformKind, event: string | undefined, body: unknown): PushEvent | undefined {
  const branch = /^[\x21-\x7e]{1,250}$/;
  if (kind === 'gitlab') {
    if (at(body, 'object_kind') !== 'push' || (event !== 'Push Hook' && event !== 'System Hook')) return undefined;
    const defaultBranch = optional(body, 'project.default_branch', branch);
    const pusher = optional(body, 'user_username', USERNAME_RE);
    return {
      repository: repositoryPath(body, 'project.path_with_namespace'),
      ref: required(body, 'ref', REF_RE, 'a ref ("refs/heads/main")'),
      after: required(body, 'after', SHA_RE, 'a commit id (40 or 64 lower-case hex digits)'),
      ...(defaultBranch ? { defaultBranch } : {}),
      ...(pusher ? { pusher } : {}),
    };
  }
  if (event !== 'push') return undefined;
  const defaultBranch = optional(body, 'repository.default_branch', branch);
  const pusher = optional(body, 'sender.login', USERNAME_RE) ?? optional(body, 'pusher.name', USERNAME_RE);
  return {
    repository: repositoryPath(body, 'repository.full_name'),
    ref: required(body, 'ref', REF_RE, 'a ref ("refs/heads/main")'),
    after: required(body, 'after', SHA_RE, 'a commit id (40 or 64 lower-case hex digits)'),
    ...(defaultBranch ? { defaultBranch } : {}),
    ...(pusher ? { pusher } : {}),
  };
}

/** The branch a ref names (`refs/heads/main` → `main`), or undefined for a tag or another ref. */
export function branchOf(ref: string): string | undefined {
  return ref.startsWith('refs/heads/') && ref.length > 11 ? ref.slice(11) : undefined;
}

/** Whether the push deleted its ref (the commit after it is all zeros). */
export const isDeletion = (push: PushEvent): boolean => /^0+$/.test(push.after);
