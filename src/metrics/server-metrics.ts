import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * gradeflow's own metrics of a server process (`gradeflow server`): what the API accepted, what the
 * control worker recorded, what the delivery worker tried. Labels are bounded sets only: platform id,
 * flavour, outcome, reason, origin, result. Never a submission, student, work or assignment id.
 * A registry of its own (not prom-client's global one): a grading host in the same process (`gradeflow
 * dev`, the tests) has its own, so each endpoint shows its own process part.
 */
export const serverRegistry = new Registry();
collectDefaultMetrics({ register: serverRegistry });

/** Seconds, from a fast grader to a long one (the flavours' time limits reach 24 h; most are under 10 min). */
const GRADING_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600];
/** Seconds a grading waited for a host: near zero when idle, minutes in a deadline rush or a bulk regrade. */
const WAIT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

export const submissionsAccepted = new Counter({
  name: 'gradeflow_submissions_accepted_total',
  help: 'Submissions accepted by the API (202: new), by platform; a repeated work_id answered 200 is not counted',
  labelNames: ['platform'] as const,
  registers: [serverRegistry],
});

export const gradings = new Counter({
  name: 'gradeflow_gradings_total',
  help: 'Gradings recorded (once per attempt, at its first record), by platform, flavour, outcome (success|failure), reason and origin ("none" on success), and kind (first|regrade)',
  labelNames: ['platform', 'flavour', 'outcome', 'reason', 'origin', 'kind'] as const,
  registers: [serverRegistry],
});

export const gradingDuration = new Histogram({
  name: 'gradeflow_grading_duration_seconds',
  help: 'From the container start to the result (attempt timings startedAt to gradedAt), by flavour',
  labelNames: ['flavour'] as const,
  buckets: GRADING_BUCKETS,
  registers: [serverRegistry],
});

export const queueWait = new Histogram({
  name: 'gradeflow_queue_wait_seconds',
  help: 'From the attempt being queued to its container start (attempt timings queuedAt to startedAt), by flavour',
  labelNames: ['flavour'] as const,
  buckets: WAIT_BUCKETS,
  registers: [serverRegistry],
});

export const callbackTries = new Counter({
  name: 'gradeflow_callback_deliveries_total',
  help: 'Callback tries, by platform, result (delivered|rejected|unreachable|gone|refused) and attempt bucket (first: made with the record; 1, 2, 3-5, 6-10, 11+: the retrying activity\'s attempt)',
  labelNames: ['platform', 'result', 'attempt'] as const,
  registers: [serverRegistry],
});

export const callbacksEnded = new Counter({
  name: 'gradeflow_callback_deliveries_ended_total',
  help: 'Deliveries that ended without the receiver accepting them: given_up (retries exhausted, 410, refused URL) or superseded (a newer attempt\'s result)',
  labelNames: ['result'] as const,
  registers: [serverRegistry],
});

export const regradeRequests = new Counter({
  name: 'gradeflow_regrade_requests_total',
  help: 'Submissions an assignment regrade asked to grade again, by platform and result (requested|error); their gradings count in gradeflow_gradings_total{kind="regrade"}',
  labelNames: ['platform', 'result'] as const,
  registers: [serverRegistry],
});
