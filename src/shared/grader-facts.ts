import type { GradeResult } from './types';

/**
 * What a grader is told about its grading (docs/graders.md): only what the platform sent and gradeflow
 * recorded, never a secret. The grading host gets it from the server (GET /internal/v1/submissions/:id/grader-facts).
 */
export interface GraderFacts {
  submission: { id: string; createdAt: string; assignmentId: string | null; studentId: string | null; courseId: string | null };
  /** The submission's assignment as stored now (absent from servers before it was told; null: no such assignment). */
  assignment?: { maxGrade: number | null } | null;
  /** Earlier submissions of the same student to the same assignment (same platform), oldest first, with their latest grading. */
  previous: PreviousSubmission[];
}

interface PreviousSubmission {
  createdAt: string;
  grade: number | null;
  maxGrade: number | null;
  /** Its grading failed at no fault of the student (gradeflow's infrastructure, or an operator). */
  autograderError: boolean;
  /** Its latest grading's normalized result (absent from servers before it was told; null: not graded yet). */
  result?: PreviousResult | null;
}

/** What of an earlier result a grader is told: the student's view of it, without output excerpts or exit code. */
export type PreviousResult = Pick<GradeResult, 'grade' | 'max_grade' | 'tests' | 'feedback' | 'stdout_visibility' | 'execution_time' | 'extra_data' | 'leaderboard'>;
