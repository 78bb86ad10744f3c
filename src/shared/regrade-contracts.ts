/**
 * The assignment regrade's workflow and its activities: inputs, answers, messages' payloads. Workflow-safe:
 * types only. Ids and counts only: no student ids, names or code (those stay in the database).
 */

/** Which regrade: the platform, the assignment, its number (the regrade's row holds the rest). */
export interface RegradeKey {
  platformId: string;
  assignmentId: string;
  seq: number;
}

/** A submission whose regrade was asked for, and the attempts it had before (its outcome is a newer one). */
export interface RunningRegrade {
  submissionId: string;
  afterAttempt: number;
}

/** What `requestRegrades` answers per submission: asked, or why it could not be. */
export type RegradeRequested = ({ ok: true } & RunningRegrade) | { ok: false; submissionId: string; error: string };

/** A regraded submission's newest recorded attempt (see RegradeStore.outcomes). */
export interface RegradeOutcomeView {
  submissionId: string;
  grade: number | null;
  previousGrade: number | null;
  /** Absent (runs recorded before it): true. False: its first grading, no grade to change. */
  hadPrevious?: boolean;
  success: boolean;
  origin: string | null;
}

/** The `progress` query's answer, and the workflow's result. */
export interface RegradeProgress {
  /** Submissions the regrade takes (null until counted). */
  total: number | null;
  /** Regraded: a result is recorded (a student's failing result counts here: it is a grade). */
  done: number;
  /** Could not be regraded, or the grading ended in an infrastructure, grader or operator fault. */
  failed: number;
  /** Regrades asked for and not yet recorded. */
  running: number;
  /** Of `done`: the grade differs from the attempt before (a first grading is not a change). */
  changed: number;
  paused: boolean;
  cancelled: boolean;
  /** All taken submissions are regraded (or it was cancelled). */
  finished: boolean;
  /** Runs continued-as-new so far (history kept small). */
  continuedAsNew: number;
}

/** What the run carries into its next run (continue-as-new): counts, the page cursor, the window. */
export interface RegradeCarried {
  total: number | null;
  done: number;
  failed: number;
  changed: number;
  paused: boolean;
  continuedAsNew: number;
  /** The last submission id taken from the pages (they are read in id order). */
  cursor: string | null;
  /** The pages are all read. */
  exhausted: boolean;
  /** Taken from a page, not yet asked for. */
  queue: string[];
  running: RunningRegrade[];
}

export interface RegradeAssignmentInput extends RegradeKey {
  /** The image to regrade with (pinned), or absent for each submission's own. */
  image?: string;
  /** Passed through to each submission's regrade signal (1 urgent … 5; absent: `priorities.regrade`, below live work). */
  priority?: number;
  /** Regrades in flight at once (`regrades.concurrency`). */
  concurrency: number;
  /** Submission ids read per page (`regrades.pageSize`). */
  pageSize: number;
  /** How often the outcomes of the regrades in flight are read, ms (`regrades.pollIntervalMs`). */
  pollIntervalMs: number;
  /** Continue as new after this many outcomes in one run (`regrades.continueAsNewAfter`). */
  continueAsNewAfter: number;
  carried?: RegradeCarried;
}

/** Activities of the control worker for the assignment regrade. Idempotent reads; `requestRegrades` signals. */
export interface RegradeActivities {
  regradeTotal(key: RegradeKey): Promise<number>;
  regradePage(req: RegradeKey & { afterId: string | null; limit: number }): Promise<string[]>;
  requestRegrades(req: RegradeKey & { submissionIds: string[]; image?: string; priority?: number }): Promise<RegradeRequested[]>;
  regradeOutcomes(running: RunningRegrade[]): Promise<RegradeOutcomeView[]>;
}
