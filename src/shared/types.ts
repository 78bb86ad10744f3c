/**
 * Types shared by the API, the workflows and the activities. Workflow-safe: no Node built-ins, no I/O.
 */

import type { GradeResult, ResultFormat } from '../results/result-schema';

/** Where a submission is in its life (the rules and transitions: ./status.ts). `received` is internal: stored, workflow not yet confirmed. */
export type SubmissionStatus = 'received' | 'queued' | 'running' | 'delivering' | 'completed' | 'failed' | 'cancelled';

// The result types are derived from the published JSON Schema's source (type-only: nothing enters the workflow bundle).
export type { FailureOrigin, FailureReason, GradeResult, OutputExcerpt, ResultFormat } from '../results/result-schema';

/** How a submission's output is read: a named format, or `auto` (detect among the stdout formats). */
export type FormatChoice = 'auto' | ResultFormat;

/** How one submission is graded beyond its container: resolved at intake from the submission and its assignment. */
export interface GradingSettings {
  format: FormatChoice;
  /** For file formats: the file the grader writes (absolute, under a writable directory of the container). */
  resultsFile?: string;
  /** The most the grade can be: scales pass ratios (TAP, JUnit) and is reported when the grader gives none. */
  maxGrade?: number;
  /**
   * When the grading host pulls a registry image: from the submission's assignment (`pull_policy`); absent:
   * the flavour's `pullPolicy`. Not a submission field.
   */
  pullPolicy?: 'if-missing' | 'always' | 'never';
}

/** The limits a grading container runs under (a flavour, possibly tightened per submission). */
export interface ResourceLimits {
  cpus: number;
  memoryMb: number;
  pids: number;
  timeLimitSeconds: number;
  outputLimitBytes: number;
  tmpfsMb: number;
}

/**
 * A submission's file as workflows carry it: by digest (the grading host fetches it from the server), and
 * for a small file also its bytes, base64, so that the host needs no second round trip.
 */
export interface SubmissionFileRef {
  name: string;
  sha256: string;
  size: number;
  inlineBase64?: string;
}

/** Timings of one attempt, ISO-8601 strings. */
export interface AttemptTimings {
  queuedAt: string;
  startedAt?: string;
  gradedAt?: string;
  deliveredAt?: string;
}

/** Delivery policy of the callback, carried in the workflow input so tests can shorten it. */
interface CallbackPolicy {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  backoffCoefficient: number;
  /** Give up after this long; the result stays available through the API. */
  giveUpAfterMs: number;
  /** Hard deadline of the first try, ms (absent in runs started before it existed). */
  firstTryTimeoutMs?: number;
}

export interface GradeSubmissionInput {
  submissionId: string;
  platformId: string;
  workId?: string;
  image: string;
  flavour: string;
  limits: ResourceLimits;
  env: Record<string, string>;
  file: SubmissionFileRef;
  grading: GradingSettings;
  callbackUrl?: string;
  /** Attempts already made by earlier runs of this workflow id (0 for a new submission). */
  previousAttempts: number;
  /** True for a new submission; false when a run is started only to serve a regrade signal. */
  gradeOnStart: boolean;
  callbackPolicy: CallbackPolicy;
  /** How often an attempt lost to infrastructure faults is tried again before it is reported. */
  infrastructureRetries: number;
  /** `deliveries`: the callback retries' queue (absent in runs started before it existed: the control queue). */
  taskQueues: { control: string; flavour: string; deliveries?: string };
  /**
   * Heartbeat timeouts of the grading activities, from the config's `heartbeatTimeouts` when the run
   * started. Absent in runs started before it existed: 20 s for runContainer, 15 s for awaitContainer.
   */
  heartbeatTimeouts?: { runContainerSeconds: number; awaitContainerSeconds: number };
  /** Where its gradings stand in the task queues (absent in runs started before priorities: none). */
  priority?: TaskPriority;
}

/**
 * A run's task-queue priority (Temporal's Priority, docs/operations.md): the priority key orders a
 * backlogged queue (1 first … 5), the fairness key shares each priority level between courses in
 * proportion to their weights.
 */
export interface TaskPriority {
  /** 1 (urgent) … 5 of the run's first attempt: the submission's; for a run started by a regrade, the regrade's. */
  key: number;
  /** Of a regrade requested without a priority of its own (e.g. signalled from the Temporal UI). */
  regradeKey: number;
  /** The course (`<platform>/<course_id>`, hashed past 64 bytes), or the platform when the submission names none. */
  fairnessKey: string;
  /** The platform's share against the other keys (`platforms[].fairnessWeight`). */
  fairnessWeight: number;
}

/** The live phase a running workflow reports (`status` query, search attribute); its stored counterpart is SubmissionStatus. */
/** `cancelled`: an operator cancelled the run (runs with the `outcome-search-attributes` patch say so). */
export type Phase = 'queued' | 'running' | 'delivering' | 'completed' | 'failed' | 'cancelled';

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
  /** Grade with this image (pinned as at intake) from this attempt on; absent: the run's image. */
  image?: string;
  /**
   * 1 (urgent) … 5 for this regrade's attempt; absent: the run's `priority.regradeKey`. Requests merged
   * while one is pending take the most urgent. The assignment regrade passes its own here.
   */
  priority?: number;
}

/** What the workflow returns when it closes. */
export interface GradeSubmissionOutcome {
  attempts: number;
  lastResult: GradeResult;
  delivered: boolean;
}

/** Body POSTed to the platform's callback URL: correctomatic's body plus gradeflow's (schema: callback-body). */
export type { CallbackBody } from '../results/result-schema';
