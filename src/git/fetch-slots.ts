/**
 * At most `limit` fetches at once (per git server, per server process): a deadline rush of pushes queues
 * here instead of inflating hundreds of packs at once in the API's process. A fetch that waits past its
 * deadline for a slot gives up (`SlotTimeout`): the hook is answered 503 and redelivered later.
 */
export class FetchSlots {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await this.slot(signal);
    else this.running++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // the slot passes on: `running` stays
      else this.running--;
    }
  }

  private slot(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const granted = () => {
        signal.removeEventListener('abort', timedOut);
        resolve();
      };
      const timedOut = () => {
        const i = this.waiting.indexOf(granted);
        if (i !== -1) this.waiting.splice(i, 1);
        reject(new SlotTimeout());
      };
      if (signal.aborted) return timedOut();
      this.waiting.push(granted);
      signal.addEventListener('abort', timedOut, { once: true });
    });
  }
}

export class SlotTimeout extends Error {
  constructor() {
    super('too many commits are being fetched at once');
    this.name = 'SlotTimeout';
  }
}
