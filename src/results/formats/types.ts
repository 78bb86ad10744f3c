import type { Feedback, GradeResult, ResultFormat, TestResult, Visibility } from '../result-schema';

/** What a finished grader left behind, already bounded in size by the grading host. */
export interface GraderOutput {
  /** stdout as text (invalid UTF-8 replaced, NUL removed), at most the output limit. */
  stdout: string;
  stderr: string;
  /**
   * The results file of a file format (gradescope, junit), at most the results-file limit; `null` when
   * the grader did not write it; absent for stdout formats.
   */
  resultsFile?: Buffer | null;
  /** The assignment's (or submission's) maximum grade, when configured: scales pass ratios and weights. */
  maxGrade?: number;
}

/** What a parser read: a grade, or the grader's own report that it could not grade; with any extras it reported. */
export interface ParsedGrade extends GraderExtras {
  /** false when the grader itself reported that it could not grade (e.g. correctomatic success:false). */
  success: boolean;
  grade?: number;
  max_grade?: number;
  comments: string[];
  tests: TestResult[];
  feedback?: Feedback;
  stdout_visibility?: Visibility;
  /** The grader's own message when success is false. */
  error?: string;
}

/** Every parser is total: it returns one of these for any input and never throws. */
export type ParseOutcome = { ok: true; parsed: ParsedGrade } | { ok: false; problem: string };

export interface FormatParser {
  format: ResultFormat;
  /** For `auto` (stdout formats only): does this output look like this format? Cheap and total. */
  detect?(output: GraderOutput): boolean;
  parse(output: GraderOutput): ParseOutcome;
}

/** The result's fields that carry what a grader reported beyond grade and tests. */
export type GraderExtras = Pick<GradeResult, 'grade_visibility' | 'output_format' | 'execution_time' | 'extra_data' | 'leaderboard'>;
