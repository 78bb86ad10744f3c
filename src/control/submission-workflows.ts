import { Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type SearchAttributePair } from '@temporalio/common';
import type { Payload, Priority } from '@temporalio/common';
import type { GradeflowConfig } from '../config/schema';
import { gradingInProgress } from '../shared/grading-in-progress';
import { createSearchAttributePrivacy, type SearchAttributePrivacy } from '../privacy/search-attribute-privacy';
import { SA } from '../shared/search-attributes';
import type { GradeSubmissionInput, SubmissionProgress } from '../shared/types';
import type { Submission } from '../store/submissions';
import { gradeSubmissionWorkflow, regradeSignal, statusQuery } from '../workflows';
import { workflowInput } from './workflow-input';

/** The search attributes a submission's run starts with, rewritten by its platform's privacy settings. */
function searchAttributes(sub: Submission, privacy: SearchAttributePrivacy): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: SA.platform, value: sub.platformId },
    { key: SA.flavour, value: sub.flavour },
    { key: SA.phase, value: 'queued' },
  ];
  if (sub.workId) pairs.push({ key: SA.workId, value: sub.workId });
  if (sub.assignmentId) pairs.push({ key: SA.assignment, value: sub.assignmentId });
  if (sub.studentId) pairs.push({ key: SA.student, value: sub.studentId });
  if (sub.courseId) pairs.push({ key: SA.course, value: sub.courseId });
  // Only the keyword attributes privacy may rewrite (student, work id) go through it; the rest as they are.
  return pairs.flatMap((p) => {
    if (p.key !== SA.student && p.key !== SA.workId) return [p];
    const [kept] = privacy(sub.platformId, [{ name: p.key.name, value: String(p.value) }]);
    return kept ? [{ key: p.key, value: kept.value } as SearchAttributePair] : [];
  });
}

/** The Temporal UI's one-line summary: no student id, no file name (either may name a person). */
function summary(sub: Submission): string {
  const what = [sub.courseId, sub.assignmentId].filter(Boolean).join(' / ');
  return `Grade with ${sub.image}${what ? ` (${what})` : ''}`;
}

/**
 * What a start found: `started` (this call or an earlier one started this submission's workflow), or the
 * id was already taken by a workflow of another submission (`ownedBy`), which is not this one's grading.
 */
export type StartOutcome = { started: true } | { started: false; ownedBy: string };

/**
 * The submission a workflow's current run grades: the `submissionId` of its input (every run of
 * gradeSubmissionWorkflow, whether started, signal-started or reset, carries one). Undefined when there is
 * no such workflow or its input names none (not a gradeflow run).
 */
export async function workflowOwner(client: Client, namespace: string, workflowId: string, runId?: string): Promise<string | undefined> {
  let events;
  try {
    const res = await client.workflowService.getWorkflowExecutionHistory({
      namespace,
      execution: { workflowId, ...(runId ? { runId } : {}) },
      maximumPageSize: 1,
    });
    events = res.history?.events ?? [];
  } catch (err) {
    if ((err as { code?: number }).code === 5 /* NOT_FOUND */) return undefined;
    throw err;
  }
  const payload = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) return undefined;
  try {
    // Through the payload codecs first (an encrypted input), in reverse order as the SDK decodes.
    const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
    let decoded: Payload = payload;
    for (const codec of [...payloadCodecs].reverse()) decoded = (await codec.decode([decoded]))[0] ?? decoded;
    const input = payloadConverter.fromPayload<unknown>(decoded);
    const id = typeof input === 'object' && input !== null ? (input as { submissionId?: unknown }).submissionId : undefined;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The run's own priority in Temporal (its workflow tasks), the same as its first grading's. */
function runPriority(input: GradeSubmissionInput): Priority {
  const p = input.priority!;
  return { priorityKey: p.key, fairnessKey: p.fairnessKey, fairnessWeight: p.fairnessWeight };
}

/** What a regrade may ask for beyond one more attempt. */
export interface RegradeOptions {
  /** Grade with this image (pinned) from this attempt on; the submission's stored image is the caller's to update. */
  image?: string;
  /** 1 (urgent) … 5; absent: `priorities.regrade` (below live work). The assignment regrade passes its own. */
  priority?: number;
}

/** The submissions' workflows in Temporal: start one, ask it to regrade, read its progress. */
export function createSubmissionWorkflows(client: Client, config: GradeflowConfig) {
  const privacy = createSearchAttributePrivacy(config);
  return {
    /**
     * Idempotent: a second call for the same submission neither fails nor grades twice. A workflow id
     * already in use (running, or closed: ids are not reused) is this submission's only if its run's input
     * says so; otherwise the answer names the submission it belongs to, and nothing was started.
     * `inline`: the file's bytes, to carry in the input (`inlineBytes`).
     */
    async start(sub: Submission, inline?: Buffer): Promise<StartOutcome> {
      const input = workflowInput(sub, config, { previousAttempts: 0, gradeOnStart: true }, inline);
      try {
        await client.workflow.start(gradeSubmissionWorkflow, {
          workflowId: sub.workflowId,
          taskQueue: input.taskQueues.control,
          args: [input],
          // A taken id fails the start (below) instead of silently answering with whoever holds it.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
          requestEagerStart: true,
          priority: runPriority(input),
          typedSearchAttributes: searchAttributes(sub, privacy),
          staticSummary: summary(sub),
          staticDetails: `submission \`${sub.id}\` · platform \`${sub.platformId}\` · flavour \`${sub.flavour}\``,
        });
        return { started: true };
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      // Usually our own earlier start (a retry, a repeated POST, the reconcile); with a stored id of the old
      // scheme it can be another submission's workflow.
      const owner = await workflowOwner(client, config.temporal.namespace, sub.workflowId);
      return owner === undefined || owner === sub.id ? { started: true } : { started: false, ownedBy: owner };
    },

    /** Which submission the current run of this workflow id grades (see `workflowOwner`). */
    owner(workflowId: string): Promise<string | undefined> {
      return workflowOwner(client, config.temporal.namespace, workflowId);
    },

    /**
     * Grade again: signal the running workflow, or start a new run under the same id that serves the
     * signal when the last one has closed. The regrade's grading waits at `options.priority`, by default
     * `priorities.regrade`: below live work.
     */
    async regrade(sub: Submission, requestedBy: string, options: RegradeOptions = {}): Promise<void> {
      const priority = options.priority ?? config.priorities.regrade;
      const input = workflowInput(options.image ? { ...sub, image: options.image } : sub, config, { previousAttempts: sub.attempts, gradeOnStart: false, priority });
      await client.workflow.signalWithStart(gradeSubmissionWorkflow, {
        workflowId: sub.workflowId,
        taskQueue: input.taskQueues.control,
        args: [input],
        signal: regradeSignal,
        signalArgs: [{ requestedBy, ...options, priority }],
        priority: runPriority(input),
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        typedSearchAttributes: searchAttributes(sub, privacy),
        staticSummary: `Regrade: ${summary(sub)}`,
      });
    },

    /** Live progress while the workflow runs; undefined once it has closed (the database then has it all). */
    async progress(sub: Submission): Promise<SubmissionProgress | undefined> {
      const handle = client.workflow.getHandle(sub.workflowId);
      try {
        const info = await handle.describe();
        if (info.status.name !== 'RUNNING') return undefined;
        // A workflow busy in a local activity answers queries late: past `server.progressQueryTimeoutMs`
        // (a second), the database answers.
        const progress = await Promise.race([
          handle.query(statusQuery),
          new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), config.server.progressQueryTimeoutMs).unref()),
        ]);
        if (!progress) return undefined;
        // A grading host with `worker.announceContainerStart` tells the workflow at once; without it (or in a
        // run started before it) the workflow learns the host when the grading ends: the pending activity says.
        const busy = progress.phase === 'queued' ? gradingInProgress(info.raw) : undefined;
        if (!busy) return progress;
        return {
          ...progress,
          phase: 'running',
          ...(busy.host ? { host: busy.host } : {}),
          timings: { ...progress.timings, ...(busy.since ? { startedAt: busy.since } : {}) },
        };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      }
    },

    async ping(): Promise<void> {
      await client.workflowService.getSystemInfo({});
    },
  };
}

export type SubmissionWorkflows = ReturnType<typeof createSubmissionWorkflows>;
