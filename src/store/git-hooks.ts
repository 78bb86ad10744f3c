import type { Assignment, AssignmentSettings } from './assignments';
import type { Db } from './db';

/** One received git hook as recorded: no repository path, username or code, only what explains the outcome. */
export interface GitHookRecord {
  platformId: string;
  kind: 'gitlab' | 'github';
  /** The platform's own id for the delivery (`X-Gitlab-Event-UUID`, `X-GitHub-Delivery`). */
  deliveryId?: string;
  /** SHA-256 (hex) of the repository's path: an operator finds a repository's hooks without the table naming it. */
  repositorySha256?: string;
  ref?: string;
  commitSha?: string;
  assignmentId?: string;
  submissionId?: string;
  /** `submitted`, `duplicate`, or why it was ignored (`repository_not_mapped`, `branch_not_configured`…). */
  outcome: string;
}

type AssignmentRow = { platform_id: string; assignment_id: string; settings: AssignmentSettings; created_at: Date; updated_at: Date };

/** What push-triggered grading reads and writes: the mapped assignments, the submission of a work id, the hooks received. */
export function createGitHookStore(db: Db) {
  return {
    /** A platform's assignments that name repository patterns. */
    async mappedAssignments(platformId: string): Promise<Assignment[]> {
      const rows = await db.query<AssignmentRow>(
        `SELECT * FROM assignments WHERE platform_id = $1 AND settings ? 'repositories' ORDER BY assignment_id`,
        [platformId],
      );
      return rows.map((r) => ({ platformId: r.platform_id, assignmentId: r.assignment_id, settings: r.settings, createdAt: r.created_at, updatedAt: r.updated_at }));
    },

    /** The submission a work id already names, if any (a repeated delivery of the same push). */
    async submissionOfWork(platformId: string, workId: string): Promise<{ id: string; status: string } | undefined> {
      const rows = await db.query<{ id: string; status: string }>('SELECT id, status FROM submissions WHERE platform_id = $1 AND work_id = $2', [platformId, workId]);
      return rows[0];
    },

    async record(r: GitHookRecord): Promise<void> {
      await db.query(
        `INSERT INTO git_hooks (platform_id, kind, delivery_id, repository_sha256, ref, commit_sha, assignment_id, submission_id, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [r.platformId, r.kind, r.deliveryId ?? null, r.repositorySha256 ?? null, r.ref ?? null, r.commitSha ?? null, r.assignmentId ?? null, r.submissionId ?? null, r.outcome],
      );
    },

    /** A platform's hooks, newest first (operators, tests). */
    async recent(platformId: string, limit = 50): Promise<GitHookRecord[]> {
      const rows = await db.query<Record<string, string | null>>(
        'SELECT * FROM git_hooks WHERE platform_id = $1 ORDER BY received_at DESC, id DESC LIMIT $2',
        [platformId, limit],
      );
      return rows.map((r) => ({
        platformId: r.platform_id!,
        kind: r.kind as 'gitlab' | 'github',
        outcome: r.outcome!,
        ...(r.delivery_id ? { deliveryId: r.delivery_id } : {}),
        ...(r.repository_sha256 ? { repositorySha256: r.repository_sha256 } : {}),
        ...(r.ref ? { ref: r.ref } : {}),
        ...(r.commit_sha ? { commitSha: r.commit_sha } : {}),
        ...(r.assignment_id ? { assignmentId: r.assignment_id } : {}),
        ...(r.submission_id ? { submissionId: r.submission_id } : {}),
      }));
    },
  };
}

export type GitHookStore = ReturnType<typeof createGitHookStore>;
