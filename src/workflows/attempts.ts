import type { GradeResult } from '../shared/types';

/**
 * The run's attempts and regrade requests. Requests that arrive while one is pending are merged into it
 * (at the most urgent priority asked for). Attempt numbers come from the database (./attempt-numbers.ts),
 * or, in runs started before that, go on from earlier runs' count.
 */
export class Attempts {
  /** The latest attempt started (earlier runs' count before the first). */
  current: number;
  /** The latest attempt whose result is recorded. */
  recorded: number;
  regradePending: boolean;
  lastResult: GradeResult | undefined;
  /** Requests taken in this run: the slot of the latest (1, 2, …). */
  private taken = 0;
  /** The most urgent priority asked for by the pending requests; undefined: none asked. */
  private pendingPriority: number | undefined;
  /** The image a regrade asked for (the latest request's), used from the next attempt on. */
  requestedImage: string | undefined;

  /** `firstPriority`: the priority of the grading a new submission's run starts with. */
  constructor(previousAttempts: number, gradeOnStart: boolean, firstPriority?: number) {
    this.current = previousAttempts;
    this.recorded = previousAttempts;
    this.regradePending = gradeOnStart;
    this.pendingPriority = gradeOnStart ? firstPriority : undefined;
  }

  requestRegrade(priority?: number, image?: string): void {
    this.regradePending = true;
    if (priority !== undefined) this.pendingPriority = Math.min(this.pendingPriority ?? priority, priority);
    if (image !== undefined) this.requestedImage = image;
  }

  /** Take the pending request: this run's slot for it and the priority it asked for. */
  take(): { slot: number; priority: number | undefined } {
    const priority = this.pendingPriority;
    this.regradePending = false;
    this.pendingPriority = undefined;
    this.taken += 1;
    return { slot: this.taken, priority };
  }

  /** The attempt that serves it: numbered `allocated`, or (runs before allocation) the next after the latest. */
  begin(allocated?: number): number {
    this.current = allocated ?? this.current + 1;
    return this.current;
  }

  /** The latest attempt started and not yet recorded (an operator's cancel records it as cancelled). */
  get unrecorded(): boolean {
    return this.recorded < this.current;
  }
}
