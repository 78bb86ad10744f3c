/** The workflow bundle's entry: every workflow the control worker runs. */
export { gradeSubmissionWorkflow } from './grade-submission';
export { regradeSignal, statusQuery } from './messages';
