import { describe, expect, it } from 'vitest';
import { verdict, type ContainerFacts } from '../../src/workers/reaper';

const now = new Date('2026-11-23T12:00:00Z');
/** `worker.reapOverdueSeconds`' default. */
const OVERDUE_SECONDS = 120;
const container = (over: Partial<ContainerFacts> = {}): ContainerFacts => ({
  name: 'gradeflow-x-a2',
  host: 'host-a',
  workflowId: 'submission/p/x',
  attempt: 2,
  running: true,
  startedAt: new Date(now.getTime() - 5_000),
  timeLimitSeconds: 60,
  ...over,
});

describe('reaper verdict', () => {
  it('removes a container whose workflow is gone or closed', () => {
    expect(verdict(container(), { state: 'gone' }, now, OVERDUE_SECONDS).action).toBe('remove');
    expect(verdict(container(), { state: 'closed' }, now, OVERDUE_SECONDS).action).toBe('remove');
  });
  it('removes a container of an attempt the workflow has moved past, or already graded', () => {
    expect(verdict(container(), { state: 'running', attempt: 3, phase: 'running' }, now, OVERDUE_SECONDS).action).toBe('remove');
    expect(verdict(container(), { state: 'running', attempt: 2, phase: 'delivering' }, now, OVERDUE_SECONDS).action).toBe('remove');
  });
  it('removes a container whose attempt another host has taken over', () => {
    expect(verdict(container(), { state: 'running', attempt: 2, phase: 'queued', gradingOn: 'host-b' }, now, OVERDUE_SECONDS).action).toBe('remove');
    expect(verdict(container(), { state: 'running', attempt: 2, phase: 'queued', gradingOn: 'host-a' }, now, OVERDUE_SECONDS).action).toBe('keep');
  });
  it("keeps a live grading's container, running or exited", () => {
    expect(verdict(container(), { state: 'running', attempt: 2, phase: 'running' }, now, OVERDUE_SECONDS).action).toBe('keep');
    expect(verdict(container({ running: false }), { state: 'running', attempt: 2, phase: 'running' }, now, OVERDUE_SECONDS).action).toBe('keep');
    expect(verdict(container(), { state: 'running', attempt: 2, phase: 'queued' }, now, OVERDUE_SECONDS).action).toBe('keep');
  });
  it('keeps what it cannot decide (Temporal unreachable, query unanswered)', () => {
    expect(verdict(container(), { state: 'unknown' }, now, OVERDUE_SECONDS).action).toBe('keep');
    expect(verdict(container({ running: false }), { state: 'running' }, now, OVERDUE_SECONDS).action).toBe('keep');
  });
  it('kills, without removing, a container running far past its time limit', () => {
    const overdue = container({ startedAt: new Date(now.getTime() - (60 + 121) * 1000) });
    expect(verdict(overdue, { state: 'running', attempt: 2, phase: 'running' }, now, OVERDUE_SECONDS).action).toBe('kill');
    expect(verdict(overdue, { state: 'unknown' }, now, OVERDUE_SECONDS).action).toBe('kill');
    const late = container({ startedAt: new Date(now.getTime() - (60 + 100) * 1000) });
    expect(verdict(late, { state: 'unknown' }, now, OVERDUE_SECONDS).action).toBe('keep');
  });
});
