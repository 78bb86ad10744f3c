import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WorkflowStarter } from '../../src/control/workflow-starter';
import type { Submission } from '../../src/store/submissions';

/** The starter's pacing against a fake Temporal client (the real start is covered end to end). */

const sub = (id: string) => ({ id }) as Submission;

function makeStarter(pacing = { quietMs: 50, maxDeferMs: 1000 }) {
  const started: string[] = [];
  const marked: string[] = [];
  const starter = new WorkflowStarter(
    { start: async (s: Submission) => void started.push(s.id) },
    { markQueued: async (ids: string[]) => void marked.push(...ids) },
    pino({ level: 'silent' }),
    2,
    pacing,
  );
  return { starter, started, marked };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('WorkflowStarter pacing', () => {
  it('starts a lone submission at once', async () => {
    const { starter, started } = makeStarter();
    starter.enqueue(sub('a'));
    expect(started).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(1000);
    starter.enqueue(sub('b'));
    expect(started).toEqual(['a', 'b']);
  });

  it('holds starts while a burst arrives, then starts every one once it is quiet', async () => {
    const { starter, started, marked } = makeStarter();
    for (let i = 0; i < 20; i++) {
      starter.enqueue(sub(`s${i}`));
      await vi.advanceTimersByTimeAsync(5);
    }
    expect(started).toEqual(['s0']); // the first came alone; the rest came 5 ms apart
    await vi.advanceTimersByTimeAsync(200);
    expect(started).toEqual(Array.from({ length: 20 }, (_, i) => `s${i}`));
    await vi.advanceTimersByTimeAsync(100);
    expect(new Set(marked).size).toBe(20);
    expect(starter.backlog).toBe(0);
  });

  it('never holds the oldest longer than maxDeferMs, however long the burst', async () => {
    const { starter, started } = makeStarter({ quietMs: 50, maxDeferMs: 100 });
    for (let i = 0; i < 100; i++) {
      starter.enqueue(sub(`s${i}`));
      await vi.advanceTimersByTimeAsync(5); // 500 ms of arrivals, never quiet
    }
    expect(started.length).toBeGreaterThan(50);
    await vi.advanceTimersByTimeAsync(200);
    expect(started).toHaveLength(100);
  });

  it('keeps a started submission as its own until it is marked queued, so the reconcile does not start it again', async () => {
    let release!: () => void;
    const starter = new WorkflowStarter(
      { start: async () => undefined },
      { markQueued: () => new Promise<void>((r) => (release = r)) },
      pino({ level: 'silent' }),
      2,
      { quietMs: 50, maxDeferMs: 5000 },
    );
    starter.enqueue(sub('a'));
    await vi.advanceTimersByTimeAsync(100); // started; the mark is slow
    expect(starter.backlog).toBe(0);
    expect(starter.has('a')).toBe(true);
    release();
    await vi.advanceTimersByTimeAsync(10);
    expect(starter.has('a')).toBe(false);
  });
});
