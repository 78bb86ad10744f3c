import type { FastifyBaseLogger } from 'fastify';
import type { GradeflowConfig } from '../config/schema';
import type { SubmissionActions } from '../control/submission-actions';
import type { SubmissionWorkflows } from '../control/submission-workflows';
import type { OwnedStarts } from '../control/workflow-ownership';
import type { WorkflowStarter } from '../control/workflow-starter';
import type { AssignmentRegrades } from '../control/assignment-regrades';
import type { AssignmentStore } from '../store/assignments';
import type { GitHookStore } from '../store/git-hooks';
import type { GraderFactsStore } from '../store/grader-facts';
import type { ResultFeed } from '../store/results-feed';
import type { SubmissionSearch } from '../store/submission-search';
import type { SubmissionStore } from '../store/submissions';
import type { HealthChecks } from './routes/health';

/** Everything the HTTP application uses; each route module takes the `Pick<AppDeps, …>` it needs. */
export interface AppDeps {
  config: GradeflowConfig;
  store: SubmissionStore;
  assignments: AssignmentStore;
  /** A platform's submissions, filtered, newest first, in pages. */
  search: SubmissionSearch;
  /** Assignment regrades: start, progress, pause/resume/cancel. */
  regrades: AssignmentRegrades;
  /** What graders are told about their grading (for grading hosts). */
  graderFacts: GraderFactsStore;
  /** The submissions' workflows in Temporal: live progress for GET. */
  workflows: Pick<SubmissionWorkflows, 'progress'>;
  /** Starts and regrades of the submission's own workflow. */
  owned: OwnedStarts;
  /** Starts accepted submissions' workflows after the answer. */
  starter: WorkflowStarter;
  /** Redeliver and cancel a submission. */
  actions: SubmissionActions;
  /** The platform's results in the order they were recorded (GET /v1/results). */
  results: ResultFeed;
  health: HealthChecks;
  /** Push-triggered grading: mapped assignments, repeated pushes, the hooks received. */
  gitHooks: GitHookStore;
  /** A pino logger, or false for silence (tests). */
  logger: FastifyBaseLogger | false;
}
