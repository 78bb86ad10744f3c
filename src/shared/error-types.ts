/**
 * ApplicationFailure `type`s thrown by activities. Workflows and retry policies match on these names.
 */
export const ErrorTypes = {
  /** The grader image is not on the grading host. Retrying on the same host will not help. */
  ImageNotFound: 'ImageNotFound',
  /** The grading host could not pull the grader image from its registry (down, unauthorized, no such manifest): an infrastructure fault. */
  ImagePullFailed: 'ImagePullFailed',
  /**
   * The grader cannot run as named: Docker refused to create or start its container (400: an invalid
   * reference, an image with no command…), or the image Docker found is not the one the reference names
   * (a name read as an image-id prefix). The grader's fault, or the request's: trying again will not help.
   */
  GraderRejected: 'GraderRejected',
  /** The submission bytes could not be fetched or did not match their digest. */
  SubmissionUnavailable: 'SubmissionUnavailable',
  /** The upload cannot become a submission directory (a hostile or broken archive): the student's fault. */
  SubmissionRejected: 'SubmissionRejected',
  /** The callback URL is not allowed (SSRF guard) at delivery time. */
  CallbackForbidden: 'CallbackForbidden',
  /** The receiver answered 410 Gone: Standard Webhooks receivers say so to stop deliveries. Not retried. */
  CallbackGone: 'CallbackGone',
  /** The callback POST got no status line within its deadline (connection refused or reset, DNS, timeout). Retried. */
  CallbackUnreachable: 'CallbackUnreachable',
  /** The receiver answered, but not with a 2xx (nor 410). Retried. */
  CallbackNotAccepted: 'CallbackNotAccepted',
  /** The delivery's next try is not due yet (its schedule's wait, or the receiver's Retry-After): no try made; retried when due. */
  CallbackDeferred: 'CallbackDeferred',
  /** The container vanished while we were waiting for it (removed by hand, daemon restarted). */
  ContainerLost: 'ContainerLost',
  /**
   * The worker awaiting a handed-over container is shutting down and hands it over again: the retry goes
   * to the next worker on the same host's queue. Retried.
   */
  WorkerShutdown: 'WorkerShutdown',
  /**
   * The attempt number was already recorded by another run of the submission (a run reset from the
   * Temporal UI past its allocation): nothing was written; the workflow allocates a new number and records
   * under it. Not retried.
   */
  AttemptTaken: 'AttemptTaken',
} as const;
