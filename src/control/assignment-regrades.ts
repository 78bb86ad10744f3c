import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { GradeflowConfig } from '../config/schema';
import type { RegradeKey, RegradeProgress } from '../shared/regrade-contracts';
import { SA } from '../shared/search-attributes';
import { controlQueue } from '../shared/task-queues';
import type { RegradeRecord, RegradeScope, RegradeStore } from '../store/regrades';
import { cancelSignal, pauseSignal, progressQuery, regradeAssignmentWorkflow, resumeSignal } from '../workflows';

/** `regrade/<platform>/<assignment>/<n>`: found in the Temporal UI by assignment and number. */
function regradeWorkflowId(key: RegradeKey): string {
  return `regrade/${key.platformId}/${key.assignmentId}/${key.seq}`;
}

/** The API's regrade id: opaque (an assignment id may contain `/`), base64url of `<assignment>/<n>`. */
export function regradeApiId(key: Pick<RegradeKey, 'assignmentId' | 'seq'>): string {
  return Buffer.from(`${key.assignmentId}/${key.seq}`).toString('base64url');
}

/** The assignment and number an API regrade id stands for; undefined when it is not one. */
export function parseRegradeApiId(id: string): { assignmentId: string; seq: number } | undefined {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(id)) return undefined;
  const text = Buffer.from(id, 'base64url').toString();
  const slash = text.lastIndexOf('/');
  const seq = Number(text.slice(slash + 1));
  if (slash < 1 || !Number.isInteger(seq) || seq < 1) return undefined;
  return { assignmentId: text.slice(0, slash), seq };
}

export interface RegradeRequestFields {
  scope: RegradeScope;
  studentIds: string[] | null;
  image: string | null;
  reason: string | null;
  priority?: number;
}

/** A regrade's state: its progress, and how its workflow stands (running, completed, or ended otherwise). */
export type RegradeStatus = RegradeProgress & { status: string };

export type RegradeControl = 'pause' | 'resume' | 'cancel';
const SIGNALS = { pause: pauseSignal, resume: resumeSignal, cancel: cancelSignal } as const;

/** Assignment regrades: recorded in the database, run by `regradeAssignmentWorkflow`, steered by its signals. */
export function createAssignmentRegrades(client: Client, config: GradeflowConfig, store: RegradeStore) {
  const handle = (key: RegradeKey) => client.workflow.getHandle<typeof regradeAssignmentWorkflow>(regradeWorkflowId(key));
  return {
    /** Record it (the next number for the assignment) and start its workflow. */
    async start(platformId: string, assignmentId: string, req: RegradeRequestFields): Promise<{ record: RegradeRecord; workflowId: string }> {
      const record = await store.create({ platformId, assignmentId, scope: req.scope, studentIds: req.studentIds, image: req.image, reason: req.reason });
      const workflowId = regradeWorkflowId(record);
      const r = config.regrades;
      await client.workflow.start(regradeAssignmentWorkflow, {
        workflowId,
        taskQueue: controlQueue(config.temporal.taskQueuePrefix),
        args: [
          {
            platformId,
            assignmentId,
            seq: record.seq,
            ...(req.image ? { image: req.image } : {}),
            ...(req.priority !== undefined ? { priority: req.priority } : {}),
            concurrency: r.concurrency,
            pageSize: r.pageSize,
            pollIntervalMs: r.pollIntervalMs,
            continueAsNewAfter: r.continueAsNewAfter,
          },
        ],
        // Ids only: no student ids or reasons (they stay in the regrade's row).
        typedSearchAttributes: [
          { key: SA.platform, value: platformId },
          { key: SA.assignment, value: assignmentId },
        ],
        memo: { kind: 'assignment-regrade', scope: req.scope, ...(req.image ? { image: req.image } : {}), listedStudents: req.studentIds?.length ?? 0 },
        staticSummary: `Regrade assignment ${assignmentId} (#${record.seq}, ${req.scope}${req.studentIds ? `, ${req.studentIds.length} listed students` : ''})`,
      });
      return { record, workflowId };
    },

    /** Its progress (the query while it runs; its result once completed); undefined when there is no such workflow. */
    async status(key: RegradeKey): Promise<RegradeStatus | undefined> {
      const h = handle(key);
      try {
        const info = await h.describe();
        const status = info.status.name;
        if (status === 'RUNNING') return { ...(await h.query(progressQuery)), status: 'running' };
        if (status === 'COMPLETED') {
          const result = await h.result();
          return { ...result, status: result.cancelled ? 'cancelled' : 'completed' };
        }
        return { total: null, done: 0, failed: 0, running: 0, changed: 0, paused: false, cancelled: true, finished: true, continuedAsNew: 0, status: status.toLowerCase() };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      }
    },

    /** Send `pause`, `resume` or `cancel`; false when its workflow is not running. */
    async control(key: RegradeKey, what: RegradeControl): Promise<boolean> {
      try {
        await handle(key).signal(SIGNALS[what]);
        return true;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    },
  };
}

export type AssignmentRegrades = ReturnType<typeof createAssignmentRegrades>;
