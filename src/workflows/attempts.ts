import type { GradeResult } from '../shared/types';

/**
 * The run's attempt numbers and regrade requests. Numbers go on from earlier runs of the same workflow id;
 * regrade requests that arrive while one is pending are merged into it.
 */
export class Attempts {
  /** The latest attempt started (earlier runs' count before the first). */
  current: number;
  /** The latest attempt whose result is recorded. */
  recorded: number;
  regradePending: boolean;
  lastResult: GradeResult | undefined;
  /** The image a regrade asked for (the latest request's), used from the next attempt on. */
  requestedImage: string | undefined;

  constructor(previousAttempts: number, gradeOnStart: boolean) {
    this.current = previousAttempts;
    this.recorded = previousAttempts;
    this.regradePending = gradeOnStart;
  }

  requestRegrade(image?: string): void {
    this.regradePending = true;
    if (image !== undefined) this.requestedImage = image;
  }

  /** Take the pending request: the number of the attempt that serves it. */
  next(): number {
    this.regradePending = false;
    this.current += 1;
    return this.current;
  }

  /** The latest attempt started and not yet recorded (an operator's cancel records it as cancelled). */
  get unrecorded(): boolean {
    return this.recorded < this.current;
  }
}
