/**
 * A job run every `intervalMs` that never overlaps itself: a tick that finds the previous run still going
 * skips. `stop()` clears the timer and waits for a run in flight. A failed run is reported to `onError`
 * and the next tick runs again. The timer does not keep the process alive.
 */
export function periodic(job: () => Promise<unknown>, onError: (err: unknown) => void) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  /** Run now, unless a run is already going (then wait for that one). */
  const runOnce = (): Promise<void> =>
    (running ??= job()
      .then(() => undefined)
      .catch(onError)
      .finally(() => (running = undefined)));

  return {
    runOnce,
    start(intervalMs: number): void {
      timer = setInterval(() => void runOnce(), intervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await running;
    },
  };
}
