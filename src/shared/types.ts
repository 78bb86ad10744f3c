/**
 * Types shared by the API, the workflows and the activities. Workflow-safe: no Node built-ins, no I/O.
 */

/** Where a submission is in its life. `received` is internal: stored, workflow not yet confirmed. */
export type SubmissionStatus = 'received' | 'queued' | 'running' | 'delivering' | 'completed' | 'failed' | 'cancelled';

/**
 * Who a failure belongs to: the student's code, the instructor's grader, gradeflow's infrastructure, or an
 * operator who cancelled the grading.
 */
export type FailureOrigin = 'student' | 'grader' | 'infrastructure' | 'operator';

/** Machine-readable reasons a grading produced no grade. */
export type FailureReason =
  | 'time_limit_exceeded'
  | 'memory_limit_exceeded'
  | 'output_limit_exceeded'
  | 'crashed'
  | 'invalid_submission'
  | 'invalid_response'
  | 'grader_reported_error'
  | 'infrastructure_error'
  | 'cancelled';

/** The limits a grading container runs under (a flavour, possibly tightened per submission). */
export interface ResourceLimits {
  cpus: number;
  memoryMb: number;
  pids: number;
  timeLimitSeconds: number;
  outputLimitBytes: number;
  tmpfsMb: number;
}

/** Everything a grading host needs to run one attempt. Small: travels through Temporal. */
export interface GradingSpec {
  submissionId: string;
  /** The workflow that owns this attempt; a container's label, so the reaper can ask whether it still lives. */
  workflowId: string;
  platformId: string;
  attempt: number;
  image: string;
  flavour: string;
  limits: ResourceLimits;
  /** Environment for the grader (the submission's params). Never contains gradeflow's own secrets. */
  env: Record<string, string>;
  file: { name: string; sha256: string; size: number };
}

/** Excerpt of a stream kept for the instructor. */
export interface OutputExcerpt {
  text: string;
  bytes: number;
  truncated: boolean;
}

/** The normalized result of one grading attempt. */
export interface GradeResult {
  success: boolean;
  grade?: number;
  comments?: string[];
  /** Human-readable message when success is false. */
  error?: string;
  /** Machine-readable reason when success is false. */
  reason?: FailureReason;
  /** Whose fault a failure is; absent on success. */
  origin?: FailureOrigin;
  exit_code?: number;
  /** How long the container ran, ms. */
  duration_ms?: number;
  stdout?: OutputExcerpt;
  stderr?: OutputExcerpt;
}

/** What the start activity answers: which host runs the container. */
export interface StartedContainer {
  hostId: string;
  hostQueue: string;
  containerId: string;
  startedAt: string;
}

/** What a grading host answers: the result, or (shutting down) where the still-running container is. */
export type RunOutcome =
  | { kind: 'graded'; started: StartedContainer; result: GradeResult }
  | { kind: 'handedOver'; started: StartedContainer };

/** Timings of one attempt, ISO-8601 strings. */
export interface AttemptTimings {
  queuedAt: string;
  startedAt?: string;
  gradedAt?: string;
  deliveredAt?: string;
}

/** Delivery policy of the callback, carried in the workflow input so tests can shorten it. */
export interface CallbackPolicy {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  backoffCoefficient: number;
  /** Give up after this long; the result stays available through the API. */
  giveUpAfterMs: number;
}

export interface GradeSubmissionInput {
  submissionId: string;
  platformId: string;
  workId?: string;
  image: string;
  flavour: string;
  limits: ResourceLimits;
  env: Record<string, string>;
  file: { name: string; sha256: string; size: number };
  callbackUrl?: string;
  /** Attempts already made by earlier runs of this workflow id (0 for a new submission). */
  previousAttempts: number;
  /** True for a new submission; false when a run is started only to serve a regrade signal. */
  gradeOnStart: boolean;
  callbackPolicy: CallbackPolicy;
  /** How often an attempt lost to infrastructure faults is tried again before it is reported. */
  infrastructureRetries: number;
  taskQueues: { control: string; flavour: string };
}

export type Phase = 'queued' | 'running' | 'delivering' | 'completed' | 'failed';

/** Answer of the `status` query. */
export interface SubmissionProgress {
  phase: Phase;
  attempt: number;
  host?: string;
  regradePending: boolean;
  timings: AttemptTimings;
}

export interface RegradeRequest {
  requestedBy?: string;
  reason?: string;
}

/** What the workflow returns when it closes. */
export interface GradeSubmissionOutcome {
  attempts: number;
  lastResult: GradeResult;
  delivered: boolean;
}

/** Body POSTed to the platform's callback URL: correctomatic's body plus gradeflow's ids. */
export interface CallbackBody {
  success: boolean;
  work_id: string | null;
  submission_id: string;
  attempt: number;
  grade?: number;
  comments?: string[];
  error?: string;
  reason?: FailureReason;
  origin?: FailureOrigin;
}
