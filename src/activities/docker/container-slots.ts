/**
 * Counts grading containers alive on this host, so that there are never more than `slots`: a slot is
 * taken before a container is created and given back once it is removed (or handed to a later worker).
 */
export class ContainerSlots {
  private readonly held = new Set<string>();
  private readonly waiters: Array<() => void> = [];

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.held.size;
  }

  /** Take a slot for `key` (idempotent per key); resolves when one is free or rejects when aborted. */
  async acquire(key: string, signal?: AbortSignal): Promise<void> {
    while (!this.held.has(key)) {
      if (this.held.size < this.capacity) {
        this.held.add(key);
        return;
      }
      await new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          const i = this.waiters.indexOf(wake);
          if (i !== -1) this.waiters.splice(i, 1);
          reject(signal?.reason ?? new Error('aborted'));
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(wake);
      });
    }
  }

  /** Mark a slot as held without waiting (a container found alive at start-up). */
  adopt(key: string): void {
    this.held.add(key);
  }

  release(key: string): void {
    if (this.held.delete(key)) this.waiters.shift()?.();
  }
}
