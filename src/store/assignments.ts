import type { PullPolicy } from '../config/schema';
import type { GradingSettings } from '../shared/types';
import type { Db } from './db';

/** An assignment's defaults for its submissions: each one a submission may override. */
export interface AssignmentSettings {
  image?: string;
  flavour?: string;
  /** When hosts pull the image for this assignment's submissions (else the flavour's `pullPolicy`). */
  pullPolicy?: PullPolicy;
  grading: Partial<GradingSettings>;
  /** Push-triggered grading: repository path patterns (`course/lab1-*`) whose pushes are this assignment's submissions. */
  repositories?: string[];
  /** Branches (patterns) whose pushes are graded; absent: the repository's default branch. */
  branches?: string[];
}

export interface Assignment {
  platformId: string;
  assignmentId: string;
  settings: AssignmentSettings;
  createdAt: Date;
  updatedAt: Date;
}

type Row = { platform_id: string; assignment_id: string; settings: AssignmentSettings; created_at: Date; updated_at: Date };

const toAssignment = (r: Row): Assignment => ({
  platformId: r.platform_id,
  assignmentId: r.assignment_id,
  settings: r.settings,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Per-assignment defaults (grader image, flavour, result format), set by the platform through the API. */
export function createAssignmentStore(db: Db) {
  return {
    /** Create or replace an assignment's settings. */
    async put(platformId: string, assignmentId: string, settings: AssignmentSettings): Promise<{ assignment: Assignment; created: boolean }> {
      const rows = await db.query<Row & { created: boolean }>(
        `INSERT INTO assignments (platform_id, assignment_id, settings) VALUES ($1, $2, $3)
         ON CONFLICT (platform_id, assignment_id) DO UPDATE SET settings = EXCLUDED.settings, updated_at = now()
         RETURNING *, (xmax = 0) AS created`,
        [platformId, assignmentId, JSON.stringify(settings)],
      );
      return { assignment: toAssignment(rows[0]!), created: rows[0]!.created };
    },

    async get(platformId: string, assignmentId: string): Promise<Assignment | undefined> {
      const rows = await db.query<Row>('SELECT * FROM assignments WHERE platform_id = $1 AND assignment_id = $2', [platformId, assignmentId]);
      return rows[0] ? toAssignment(rows[0]) : undefined;
    },
  };
}

export type AssignmentStore = ReturnType<typeof createAssignmentStore>;
