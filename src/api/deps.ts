import type { FastifyBaseLogger } from 'fastify';
import type { GradeflowConfig } from '../config/schema';
import type { SubmissionWorkflows } from '../control/submission-workflows';
import type { OwnedStarts } from '../control/workflow-ownership';
import type { WorkflowStarter } from '../control/workflow-starter';
import type { AssignmentStore } from '../store/assignments';
import type { GraderFactsStore } from '../store/grader-facts';
import type { SubmissionStore } from '../store/submissions';
import type { HealthChecks } from './routes/health';

/** Everything the HTTP application uses; each route module takes the `Pick<AppDeps, …>` it needs. */
export interface AppDeps {
  config: GradeflowConfig;
  store: SubmissionStore;
  assignments: AssignmentStore;
  /** What graders are told about their grading (for grading hosts). */
  graderFacts: GraderFactsStore;
  /** The submissions' workflows in Temporal: live progress for GET. */
  workflows: Pick<SubmissionWorkflows, 'progress'>;
  /** Starts and regrades of the submission's own workflow. */
  owned: OwnedStarts;
  /** Starts accepted submissions' workflows after the answer. */
  starter: WorkflowStarter;
  health: HealthChecks;
  /** A pino logger, or false for silence (tests). */
  logger: FastifyBaseLogger | false;
}
