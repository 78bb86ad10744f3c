/** The workflow bundle's entry: every workflow the control worker runs. */
export { gradeSubmissionWorkflow } from './grade-submission';
export { regradeSignal, statusQuery } from './messages';
export { regradeAssignmentWorkflow } from './regrade-assignment';
export { cancelSignal, pauseSignal, progressQuery, resumeSignal } from './regrade-assignment-messages';
export { redeliverWorkflow } from './redeliver';
