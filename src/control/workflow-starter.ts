import type { Logger } from 'pino';
import type { Submission, SubmissionStore } from '../store/submissions';

/** One submission waiting to be started, with its file's bytes when they travel in the workflow input. */
interface Waiting {
  sub: Submission;
  inline?: Buffer;
  at: number;
}

/**
 * Starts submissions' workflows after the API has answered. A submission is accepted once its row is
 * committed (status `received`): the platform does not wait for Temporal, and a burst is absorbed by the
 * database at its speed, not Temporal's. Starts run a few at a time; one that fails leaves the row
 * `received`, and the server's periodic reconcile enqueues it again, so nothing is lost. Starting is
 * idempotent, so nothing runs twice either.
 *
 * Intake comes first: while submissions keep arriving (one less than `quietMs` ago), starts wait, up to
 * `maxDeferMs` for the oldest, so that a burst of POSTs does not share the CPU with the workflow starts
 * it causes (each start is also a workflow task in this process). A lone submission starts at once.
 */
export class WorkflowStarter {
  private readonly queue: Waiting[] = [];
  private lastEnqueueAt = -Infinity;
  /** Time between the last two submissions: small while a burst arrives. */
  private lastGap = Infinity;
  private retry?: NodeJS.Timeout;
  private readonly pending = new Set<string>();
  /** Started, and not yet marked `queued`: the reconcile must not take these for never started. */
  private readonly unmarked = new Set<string>();
  private running = 0;
  private idle: Array<() => void> = [];
  private closed = false;
  /** Started, not yet marked `queued` in the database: marked in one statement per batch. */
  private started: string[] = [];
  private marking?: Promise<void>;

  constructor(
    /** Starts one submission's workflow, idempotently (the server's: `OwnedStarts`); throws when it could not. */
    private readonly starts: { start(sub: Submission, inline?: Buffer): Promise<unknown> },
    private readonly store: Pick<SubmissionStore, 'markQueued'>,
    private readonly log: Logger,
    /** Starts in flight at once (`server.starterConcurrency`). */
    private readonly concurrency: number,
    /** `server.starterQuietMs`, `server.starterMaxDeferMs`. */
    private readonly pacing: { quietMs: number; maxDeferMs: number },
  ) {}

  /** Whether this submission is waiting here or being started now. */
  has(id: string): boolean {
    return this.pending.has(id) || this.unmarked.has(id);
  }

  get backlog(): number {
    return this.pending.size;
  }

  /** `inline`: the file's bytes, when they are to travel in the workflow input (`inlineBytes`). */
  enqueue(sub: Submission, inline?: Buffer): void {
    if (this.closed || this.pending.has(sub.id)) return;
    this.pending.add(sub.id);
    const now = performance.now();
    this.lastGap = now - this.lastEnqueueAt;
    this.lastEnqueueAt = now;
    this.queue.push({ sub, ...(inline ? { inline } : {}), at: now });
    this.pump();
  }

  /**
   * Whether starts should wait: submissions are arriving close together (a lone one starts at once), and
   * the oldest waiting has not waited `maxDeferMs` yet.
   */
  private deferring(): boolean {
    const now = performance.now();
    const arriving = this.lastGap < this.pacing.quietMs && now - this.lastEnqueueAt < this.pacing.quietMs;
    return arriving && now - this.queue[0]!.at < this.pacing.maxDeferMs;
  }

  private pumpLater(): void {
    this.retry ??= setTimeout(() => {
      this.retry = undefined;
      this.pump();
    }, this.pacing.quietMs);
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0 && !this.closed) {
      if (this.deferring()) {
        this.pumpLater();
        return;
      }
      const { sub, inline } = this.queue.shift()!;
      this.running++;
      void this.startOne(sub, inline).finally(() => {
        this.running--;
        this.pending.delete(sub.id);
        if (this.running === 0 && (this.queue.length === 0 || this.closed)) this.idle.splice(0).forEach((r) => r());
        this.pump();
      });
    }
  }

  private async startOne(sub: Submission, inline: Buffer | undefined): Promise<void> {
    try {
      await this.starts.start(sub, inline);
    } catch (err) {
      this.log.warn({ err, submission: sub.id }, 'workflow start failed; the reconcile will try again');
      return;
    }
    this.started.push(sub.id);
    this.unmarked.add(sub.id);
    this.marking ??= this.markStarted();
  }

  private async markStarted(): Promise<void> {
    await new Promise((r) => setTimeout(r, 20)); // let a burst's starts gather
    while (this.started.length > 0) {
      const batch = this.started.splice(0, 500);
      // Not fatal: a row left `received` is started again by the reconcile, and starting is idempotent.
      await this.store.markQueued(batch).catch((err: unknown) => this.log.warn({ err }, 'marking started submissions failed'));
      for (const id of batch) this.unmarked.delete(id);
    }
    this.marking = undefined;
  }

  /** Stop taking work and wait for the starts in flight; the rest stays `received` for the next boot. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    clearTimeout(this.retry);
    if (this.running > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    await this.marking;
  }
}
