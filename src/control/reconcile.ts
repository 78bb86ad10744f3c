import type { Logger } from 'pino';
import type { SubmissionStore } from '../store/submissions';
import type { WorkflowStarter } from './workflow-starter';
import { periodic } from '../shared/periodic';

/** A row younger than this may still be being started by the server that stored it: left alone. */
const UNCONFIRMED_AFTER_MS = 5000;

/**
 * The reconcile loop: submissions accepted but never started (a start failed, or the server stopped
 * first) stay `received` in the database; they are enqueued on the starter again, at boot and then every
 * `server.reconcileIntervalMs`, at most `server.reconcileBatch` per pass. Starting is idempotent, so
 * nothing is lost and nothing runs twice.
 */
export function createReconcileLoop(deps: {
  store: Pick<SubmissionStore, 'listReceived'>;
  starter: Pick<WorkflowStarter, 'has' | 'enqueue'>;
  log: Logger;
  intervalMs: number;
  batch: number;
}) {
  const { store, starter, log } = deps;

  /** One pass: enqueue every stored, unstarted submission the starter does not already hold. */
  async function reconcile(): Promise<void> {
    for (const sub of await store.listReceived(UNCONFIRMED_AFTER_MS, deps.batch)) {
      if (starter.has(sub.id)) continue;
      log.warn({ submission: sub.id }, 'starting a stored submission whose workflow start was not confirmed');
      starter.enqueue(sub);
    }
  }

  const loop = periodic(reconcile, (err) => log.error({ err }, 'reconcile failed'));
  return {
    reconcile,
    /** Run on a timer, and once now (resolves when this first pass is done). */
    async start(): Promise<void> {
      loop.start(deps.intervalMs);
      await loop.runOnce();
    },
    /** Stop the timer and wait for a pass in flight. */
    stop: loop.stop,
  };
}
