import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/setup/paths';
import { submissionWorkflowId } from '../../src/shared/workflow-ids';
import type { DevStack } from './dev-stack';

/** What the pictures show: one assignment's submissions, a good grading, a failed one, a paused regrade. */
export interface Scenario {
  assignment: string;
  /** The workflow ids of the assignment's submissions (the list must show exactly these). */
  assignmentWorkflows: string[];
  /** A submission of another assignment (the list must not show it). */
  otherWorkflow: string;
  completed: { workflowId: string; submissionId: string };
  failed: { workflowId: string; submissionId: string; reason: string };
}

const ASSIGNMENT = 'lab1';
const IMAGE = 'gradeflow/example-sum:2';
const right = readFileSync(path.join(PROJECT_ROOT, 'examples', 'sum-grader', 'submission', 'sum.sh'));
const wrong = Buffer.from('#!/bin/sh\necho $(( $1 - $2 ))\n');
/** Right, but too slow for the 2 s limit it is submitted with. */
const slow = Buffer.from('#!/bin/sh\nsleep 30\necho $(( $1 + $2 ))\n');

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function api<T>(stack: DevStack, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(`${stack.apiUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${stack.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${route} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

async function submit(stack: DevStack, assignment: string, student: string, file: Buffer, extra: Record<string, unknown> = {}): Promise<{ id: string; workflowId: string }> {
  const { id } = await api<{ id: string }>(stack, 'POST', '/v1/submissions', {
    image: IMAGE,
    assignment_id: assignment,
    course_id: 'cs101',
    student_id: student,
    file: { name: 'sum.sh', content_base64: file.toString('base64') },
    ...extra,
  });
  return { id, workflowId: submissionWorkflowId(stack.platformId, { id }) };
}

async function finished(stack: DevStack, id: string): Promise<{ status: string; result: { reason?: string } | null }> {
  const deadline = Date.now() + 240_000;
  for (;;) {
    const s = await api<{ status: string; result: { reason?: string } | null }>(stack, 'GET', `/v1/submissions/${id}`);
    if (s.status === 'completed' || s.status === 'failed') return s;
    if (Date.now() > deadline) throw new Error(`submission ${id} is still ${s.status}`);
    await pause(500);
  }
}

/** Five students' submissions to lab1 (one too slow, one wrong) and one to lab2, each graded. */
export async function gradeAssignment(stack: DevStack, log: (line: string) => void): Promise<Scenario> {
  const made = [
    await submit(stack, ASSIGNMENT, 'ada', right),
    await submit(stack, ASSIGNMENT, 'bob', right),
    await submit(stack, ASSIGNMENT, 'cyd', wrong),
    await submit(stack, ASSIGNMENT, 'dan', slow, { limits: { time_limit_seconds: 2 } }),
    await submit(stack, ASSIGNMENT, 'eve', right),
  ];
  const other = await submit(stack, 'lab2', 'ada', right);
  log(`submitted ${made.length + 1} submissions; waiting for their results…`);
  for (const m of [...made, other]) await finished(stack, m.id);
  const failed = await finished(stack, made[3]!.id);
  return {
    assignment: ASSIGNMENT,
    assignmentWorkflows: made.map((m) => m.workflowId),
    otherWorkflow: other.workflowId,
    completed: { workflowId: made[0]!.workflowId, submissionId: made[0]!.id },
    failed: { workflowId: made[3]!.workflowId, submissionId: made[3]!.id, reason: failed.result?.reason ?? 'unknown' },
  };
}

export interface RegradeProgress {
  total: number;
  done: number;
  running: number;
  paused: boolean;
  finished: boolean;
}

/**
 * Regrade the assignment (two at a time) and pause it once some are done, so that the picture shows a
 * regrade that is running, part way, and holds still. Resolves with its workflow id and settled progress.
 */
export async function pausedRegrade(stack: DevStack, assignment: string): Promise<{ workflowId: string; regradeId: string; progress: RegradeProgress }> {
  const { regrade_id: regradeId, workflow_id: workflowId } = await api<{ regrade_id: string; workflow_id: string }>(
    stack, 'POST', `/v1/assignments/${assignment}/regrade`, { reason: 'test 3 fixed' },
  );
  const deadline = Date.now() + 240_000;
  for (;;) {
    const p = await api<RegradeProgress>(stack, 'GET', `/v1/regrades/${regradeId}`);
    if (p.finished) throw new Error('the regrade finished before it could be paused');
    if (p.done >= 1) break;
    if (Date.now() > deadline) throw new Error('the regrade did not progress');
    await pause(200);
  }
  await api(stack, 'POST', `/v1/regrades/${regradeId}/pause`);
  // Those in flight finish; then it holds still until resumed or cancelled.
  for (;;) {
    const p = await api<RegradeProgress>(stack, 'GET', `/v1/regrades/${regradeId}`);
    if (p.paused && p.running === 0) return { workflowId, regradeId, progress: p };
    if (Date.now() > deadline) throw new Error('the paused regrade did not settle');
    await pause(300);
  }
}

/** End the paused regrade (its picture is taken). */
export async function cancelRegrade(stack: DevStack, regradeId: string): Promise<void> {
  await api(stack, 'POST', `/v1/regrades/${regradeId}/cancel`);
}
