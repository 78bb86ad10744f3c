/**
 * What a grader is told about its grading (docs/graders.md): only what the platform sent and gradeflow
 * recorded, never a secret. The grading host gets it from the server (GET /internal/v1/submissions/:id/grader-facts).
 */
export interface GraderFacts {
  submission: { id: string; createdAt: string; assignmentId: string | null; studentId: string | null; courseId: string | null };
  /** Earlier submissions of the same student to the same assignment (same platform), oldest first, with their latest grading. */
  previous: PreviousSubmission[];
}

interface PreviousSubmission {
  createdAt: string;
  grade: number | null;
  maxGrade: number | null;
  /** Its grading failed at no fault of the student (gradeflow's infrastructure, or an operator). */
  autograderError: boolean;
}
