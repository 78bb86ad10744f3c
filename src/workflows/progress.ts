import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { StartedContainer } from '../shared/activity-contracts';
import { SA } from '../shared/search-attributes';
import type { Phase, SubmissionProgress } from '../shared/types';

/**
 * What the run tells the world about itself: the `status` query's answer (`state`), the phase and host
 * search attributes (sent only when they change: each change is a visibility write) and the UI's details.
 */
export class Progress {
  readonly state: SubmissionProgress;
  /** The search attributes as last sent (the start set the phase to queued). */
  private indexed: { phase: Phase; host?: string } = { phase: 'queued' };

  constructor(nextAttempt: number) {
    this.state = { phase: 'queued', attempt: nextAttempt, regradePending: false, timings: { queuedAt: new Date().toISOString() } };
  }

  get host(): string | undefined {
    return this.state.host;
  }

  regradeRequested(): void {
    this.state.regradePending = true;
  }

  /** A new attempt starts: it waits for a grading host. */
  attemptQueued(attempt: number): void {
    this.state.regradePending = false;
    this.state.attempt = attempt;
    this.state.timings = { queuedAt: new Date().toISOString() };
    delete this.state.host;
    this.setPhase('queued');
  }

  /** The attempt's result is recorded under another number than it was graded under (see Attempts). */
  renumbered(attempt: number): void {
    this.state.attempt = attempt;
  }

  /** A host started the attempt's container (the phase is left to the caller). */
  containerStarted(started: StartedContainer): void {
    this.state.timings.startedAt = started.startedAt;
    this.state.host = started.hostId;
  }

  graded(): void {
    this.state.timings.gradedAt = new Date().toISOString();
  }

  delivered(): void {
    this.state.timings.deliveredAt = new Date().toISOString();
  }

  setPhase(phase: Phase, host?: string): void {
    this.state.phase = phase;
    if (host !== undefined) this.state.host = host;
    if (this.indexed.phase !== phase || (host !== undefined && this.indexed.host !== host)) {
      upsertSearchAttributes([{ key: SA.phase, value: phase }, ...(host !== undefined ? [{ key: SA.host, value: host }] : [])]);
      const indexedHost = host ?? this.indexed.host;
      this.indexed = { phase, ...(indexedHost !== undefined ? { host: indexedHost } : {}) };
    }
    setCurrentDetails(`**${phase}** · attempt ${this.state.attempt}${this.state.host ? ` · host ${this.state.host}` : ''}`);
  }
}
