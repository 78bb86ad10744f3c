/**
 * What each activity takes and answers: the contract between the workflow (src/workflows, which imports
 * only these types) and the activities (src/activities, which implement them). Workflow-safe: types only.
 * Every field added here must be optional, or absent from runs started before it (see docs/ARCHITECTURE.md).
 */
import type {
  AttemptTimings,
  CallbackBody,
  GradeResult,
  GradeSubmissionInput,
  GradingSettings,
  ResourceLimits,
  SubmissionFileRef,
  SubmissionStatus,
} from './types';

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
  file: SubmissionFileRef;
  grading: GradingSettings;
}

/** What the start activity answers: which host runs the container. */
export interface StartedContainer {
  hostId: string;
  hostQueue: string;
  containerId: string;
  startedAt: string;
}

/** What a grading host tells the workflow the moment an attempt's container runs (the `containerStarted` signal). */
export interface ContainerStartedNotice {
  attempt: number;
  hostId: string;
  startedAt: string;
}

/** What a grading host answers: the result, or (shutting down) where the still-running container is. */
export type RunOutcome =
  | { kind: 'graded'; started: StartedContainer; result: GradeResult }
  | { kind: 'handedOver'; started: StartedContainer };

/** One callback to deliver: an attempt's result, signed and POSTed to the platform. */
export interface DeliveryRequest {
  submissionId: string;
  platformId: string;
  attempt: number;
  url: string;
  body: CallbackBody;
  /**
   * The submission's status once this callback is delivered (src/shared/status.ts). Absent in runs started
   * before it existed: the activity derives it from `body.reason` with the same rule.
   */
  statusWhenDelivered?: SubmissionStatus;
  /**
   * Set for a redelivery (`POST /v1/submissions/{id}/redeliver`): its number. It is sent under its own
   * webhook id and recorded as that redelivery's tries, never as the attempt's delivery, and changes no status.
   */
  redelivery?: number;
}

/** A redeliver workflow's input: the message to send again and how to retry it (as the submission's own callbacks). */
export interface RedeliverInput {
  request: DeliveryRequest & { redelivery: number };
  callbackPolicy: GradeSubmissionInput['callbackPolicy'];
  taskQueues: { control: string; deliveries: string };
}

/** A redelivery whose retries ended without the receiver accepting it. */
export interface RedeliveryFailureRecord {
  submissionId: string;
  redelivery: number;
  error: string;
}

/**
 * How the first try of a callback, made with the record of its result, went. `skipped`: not made (too many
 * first tries in flight, or the record was retried): the retries start at once, without waiting.
 */
export type FirstDeliveryTry = { delivered: true } | { delivered: false; retryable: boolean; error: string; skipped?: boolean };

/** An attempt's result, to record with the submission's new status. */
export interface AttemptResultRecord {
  submissionId: string;
  attempt: number;
  host: string | null;
  timings: AttemptTimings;
  result: GradeResult;
  status: SubmissionStatus;
  /** The image that graded it (absent in runs started before it was recorded). */
  image?: string;
}

/** `recordResultAndDeliver`'s input: the record, and the callback whose first try follows it (if any). */
export interface RecordAndDeliverRequest {
  record: AttemptResultRecord;
  delivery?: DeliveryRequest;
}

/** An operator cancelled the run; `result` (with host and timings) for an attempt not yet recorded. */
export interface CancellationRecord {
  submissionId: string;
  attempt: number;
  result?: GradeResult;
  host?: string | null;
  timings?: AttemptTimings;
}

/** A delivery that ended without the receiver accepting it, or was superseded by a newer attempt's. */
export interface DeliveryFailureRecord {
  submissionId: string;
  attempt: number;
  superseded: boolean;
  error: string;
}

/**
 * Ask the database for an attempt number. Keyed on the run and its slot (its n-th grading, or a
 * renumbering), so a retried or replayed allocation answers the same number and any other run (a reset, a
 * run started from the Temporal UI or CLI) gets one above every number the submission has used.
 */
export interface AttemptAllocationRequest {
  submissionId: string;
  workflowId: string;
  runId: string;
  slot: string;
}

/** A search attribute as the database knows it (name and Keyword value), for a run started without them. */
export interface KeywordAttribute {
  name: string;
  value: string;
}

export interface AttemptAllocation {
  attempt: number;
  /** The submission's search attributes, as a start by gradeflow sets them. */
  searchAttributes: KeywordAttribute[];
}

/** Activities of a grading host (flavour queues, the host's own queue). */
export interface HostActivities {
  runContainer(spec: GradingSpec): Promise<RunOutcome>;
  awaitContainer(spec: GradingSpec, started: StartedContainer): Promise<GradeResult>;
}

/** Activities of the control worker (local activities) and of the delivery queue (`deliverCallback`). */
export interface ControlActivities {
  allocateAttempt(r: AttemptAllocationRequest): Promise<AttemptAllocation>;
  recordAttemptResult(r: AttemptResultRecord): Promise<void>;
  recordResultAndDeliver(r: RecordAndDeliverRequest): Promise<FirstDeliveryTry | null>;
  recordCancellation(r: CancellationRecord): Promise<void>;
  recordDeliveryFailure(r: DeliveryFailureRecord): Promise<void>;
  recordRedeliveryFailure(r: RedeliveryFailureRecord): Promise<void>;
  deliverCallback(req: DeliveryRequest): Promise<{ status: number }>;
}
