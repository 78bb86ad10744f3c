import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createReconcileLoop } from '../../src/control/reconcile';
import type { Submission } from '../../src/store/submissions';

/** The reconcile pass asks the store for rows old enough to be unconfirmed, at most `server.reconcileBatch` of them. */
describe('reconcile loop', () => {
  it('takes at most reconcileBatch rows, of those stored 5 s ago or more, and enqueues those the starter does not hold', async () => {
    const asked: Array<[number, number]> = [];
    const enqueued: string[] = [];
    const loop = createReconcileLoop({
      store: {
        listReceived: async (olderThanMs: number, limit: number) => {
          asked.push([olderThanMs, limit]);
          return [{ id: 'a' }, { id: 'b' }] as Submission[];
        },
      },
      starter: { has: (id: string) => id === 'a', enqueue: (s: Submission) => void enqueued.push(s.id) },
      log: pino({ level: 'silent' }),
      intervalMs: 60_000,
      batch: 7,
    });
    await loop.reconcile();
    expect(asked).toEqual([[5000, 7]]);
    expect(enqueued).toEqual(['b']);
  });
});
