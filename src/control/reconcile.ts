import type { Logger } from 'pino';
import type { SubmissionStore } from '../store/submissions';
import type { WorkflowStarter } from './workflow-starter';

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
  let timer: NodeJS.Timeout | undefined;
  let passing: Promise<void> | undefined;

  /** One pass: enqueue every stored, unstarted submission the starter does not already hold. */
  async function reconcile(): Promise<void> {
    for (const sub of await store.listReceived(deps.batch)) {
      if (starter.has(sub.id)) continue;
      log.warn({ submission: sub.id }, 'starting a stored submission whose workflow start was not confirmed');
      starter.enqueue(sub);
    }
  }

  const pass = (): Promise<void> =>
    (passing ??= reconcile()
      .catch((err: unknown) => log.error({ err }, 'reconcile failed'))
      .finally(() => (passing = undefined)));

  return {
    reconcile,
    /** Run on a timer, and once now (resolves when this first pass is done). */
    async start(): Promise<void> {
      timer = setInterval(() => void pass(), deps.intervalMs);
      timer.unref();
      await pass();
    },
    /** Stop the timer and wait for a pass in flight. */
    async stop(): Promise<void> {
      clearInterval(timer);
      await passing;
    },
  };
}
