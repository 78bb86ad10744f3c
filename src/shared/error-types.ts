/**
 * ApplicationFailure `type`s thrown by activities. Workflows and retry policies match on these names.
 */
export const ErrorTypes = {
  /** The grader image is not on the grading host. Retrying on the same host will not help. */
  ImageNotFound: 'ImageNotFound',
  /** The submission bytes could not be fetched or did not match their digest. */
  SubmissionUnavailable: 'SubmissionUnavailable',
  /** The upload cannot become a submission directory (a hostile or broken archive): the student's fault. */
  SubmissionRejected: 'SubmissionRejected',
  /** The callback URL is not allowed (SSRF guard) at delivery time. */
  CallbackForbidden: 'CallbackForbidden',
  /** The container vanished while we were waiting for it (removed by hand, daemon restarted). */
  ContainerLost: 'ContainerLost',
} as const;

export type ErrorType = (typeof ErrorTypes)[keyof typeof ErrorTypes];
