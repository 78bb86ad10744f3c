import type { GraderFacts, PreviousResult } from '../../shared/grader-facts';
import type { GradingSpec } from '../../shared/activity-contracts';
import type { SubmissionSource } from './submission-bytes';

/** How long a grading waits for the facts before it goes on without them. */
const FETCH_TIMEOUT_MS = 5000;

/**
 * The facts a grader is told, from the server (the grading host has no database). Undefined when the
 * server knows no such submission or cannot be reached: a grading whose file travels inline needs no
 * server, and is not held up for these facts (the grader is then told only what the attempt itself says).
 */
export async function fetchGraderFacts(source: SubmissionSource, submissionId: string, signal?: AbortSignal): Promise<GraderFacts | undefined> {
  const url = `${source.serverUrl}/internal/v1/submissions/${encodeURIComponent(submissionId)}/grader-facts`;
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${source.workerToken}` }, signal: AbortSignal.any([...(signal ? [signal] : []), AbortSignal.timeout(FETCH_TIMEOUT_MS)]) });
    return res.ok ? ((await res.json()) as GraderFacts) : undefined;
  } catch {
    if (signal?.aborted) throw signal.reason;
    return undefined;
  }
}

/**
 * The assignment's total points: its `max_grade` as stored now, else the one the submission was accepted
 * with (its own or its assignment's then); undefined when neither is set.
 */
function totalPoints(facts: GraderFacts | undefined, spec: Pick<GradingSpec, 'grading'>): number | undefined {
  return facts?.assignment?.maxGrade ?? spec.grading.maxGrade;
}

/** The facts as environment variables (every format); names under GRADEFLOW_, which params may not use. */
export function graderFactsEnv(facts: GraderFacts | undefined, spec: Pick<GradingSpec, 'grading'>): string[] {
  const total = totalPoints(facts, spec);
  const env = total !== undefined ? [`GRADEFLOW_TOTAL_POINTS=${total}`] : [];
  if (!facts) return env;
  const s = facts.submission;
  env.push(`GRADEFLOW_CREATED_AT=${s.createdAt}`, `GRADEFLOW_PREVIOUS_SUBMISSIONS=${facts.previous.length}`);
  if (s.assignmentId !== null) env.push(`GRADEFLOW_ASSIGNMENT_ID=${s.assignmentId}`);
  if (s.studentId !== null) env.push(`GRADEFLOW_STUDENT_ID=${s.studentId}`);
  if (s.courseId !== null) env.push(`GRADEFLOW_COURSE_ID=${s.courseId}`);
  const last = facts.previous[facts.previous.length - 1];
  if (last?.grade != null) env.push(`GRADEFLOW_PREVIOUS_SCORE=${last.grade}`);
  // Oldest first, comma-separated; an empty entry for one without a grade.
  if (facts.previous.length > 0) env.push(`GRADEFLOW_PREVIOUS_SCORES=${facts.previous.map((p) => (p.grade ?? '')).join(',')}`);
  return env;
}

/** Gradescope's "20.0": total_points is a string of a decimal there. */
const points = (n: number): string => (Number.isInteger(n) ? n.toFixed(1) : String(n));

/** An earlier result as Gradescope gives it (`results`: its results.json): score, tests, output and the extras. */
function gradescopeResults(result: PreviousResult): Record<string, unknown> {
  const { grade, max_grade, feedback, ...rest } = result;
  return {
    score: grade ?? null,
    ...(max_grade !== undefined ? { max_score: max_grade } : {}),
    ...(feedback ? { output: feedback.content, output_format: feedback.format === 'markdown' ? 'md' : 'text' } : {}),
    ...rest,
  };
}

/**
 * /autograder/submission_metadata.json as Gradescope writes it, with what gradeflow knows: ids are
 * gradeflow's and the platform's (strings, where Gradescope has numbers); users carry the student id
 * only (no name or email is ever invented); previous_submissions with their scores and results, oldest
 * first. What gradeflow does not know is null (title, dates, group settings, submission method, a user's
 * name and email), as Gradescope writes a field it has no value for. When the facts are unknown (the
 * server was unreachable), users and previous_submissions are left out rather than said to be empty.
 */
export function submissionMetadata(facts: GraderFacts | undefined, spec: Pick<GradingSpec, 'submissionId' | 'grading'>): Record<string, unknown> {
  const s = facts?.submission;
  const total = totalPoints(facts, spec);
  return {
    id: spec.submissionId,
    created_at: s?.createdAt ?? null,
    assignment: {
      id: s?.assignmentId ?? null,
      course_id: s?.courseId ?? null,
      title: null,
      release_date: null,
      due_date: null,
      late_due_date: null,
      group_submission: null,
      group_size: null,
      total_points: total !== undefined ? points(total) : null,
    },
    submission_method: null,
    ...(facts
      ? {
          users: facts.submission.studentId ? [{ id: facts.submission.studentId, name: null, email: null, assignment: null }] : [],
          previous_submissions: facts.previous.map((p) => ({
            submission_time: p.createdAt,
            score: p.grade ?? 0,
            autograder_error: p.autograderError,
            results: p.result ? gradescopeResults(p.result) : null,
          })),
        }
      : {}),
  };
}
