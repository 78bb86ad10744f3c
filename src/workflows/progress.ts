import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { ContainerStartedNotice, StartedContainer } from '../shared/activity-contracts';
import { SA } from '../shared/search-attributes';
import type { GradeResult, Phase, SubmissionProgress } from '../shared/types';

/** What an attempt's result is, in two words at most: `graded`, or its reason (and whose fault it was). No grade, no personal data. */
function outcomeOf(result: GradeResult): { reason: string; origin?: string } {
  return { reason: result.reason ?? 'graded', ...(result.origin ? { origin: result.origin } : {}) };
}

/**
 * What the run tells the world about itself: the `status` query's answer (`state`), the phase, host and
 * outcome search attributes (sent only when they change: each change is a visibility write) and the UI's
 * current details.
 */
export class Progress {
  readonly state: SubmissionProgress;
  /** The search attributes as last sent (the start set the phase to queued). */
  private indexed: { phase: Phase; host?: string } = { phase: 'queued' };
  /** The latest recorded attempt's outcome, for the details (runs with the outcome patch). */
  private outcome: { attempt: number; reason: string; origin?: string } | undefined;

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

  /**
   * Whether a `containerStarted` notice is news: it is the current attempt's, not yet graded, and says
   * something the run does not know yet (a retry on another host, or the first start). A late or repeated
   * notice (an activity retried on the same host, a signal that arrives after the result) is not.
   */
  isNews(notice: ContainerStartedNotice): boolean {
    const s = this.state;
    if (notice.attempt !== s.attempt || s.timings.gradedAt !== undefined) return false;
    if (s.phase !== 'queued' && s.phase !== 'running') return false;
    return s.phase === 'queued' || s.host !== notice.hostId || s.timings.startedAt !== notice.startedAt;
  }

  /** The container runs (the grading host said so): phase running on that host, from then. */
  running(notice: ContainerStartedNotice): void {
    this.state.timings.startedAt = notice.startedAt;
    this.setPhase('running', notice.hostId);
  }

  graded(): void {
    this.state.timings.gradedAt = new Date().toISOString();
  }

  delivered(): void {
    this.state.timings.deliveredAt = new Date().toISOString();
  }

  /**
   * An attempt's result is recorded: `GradeflowReason` (`graded` or the failure's reason) and
   * `GradeflowOrigin` (whose failure: student, grader, infrastructure, operator; none when graded), so
   * that an operator can list the infrastructure failures. One upsert, sent only when the outcome changes.
   */
  recorded(attempt: number, result: GradeResult): void {
    const next = outcomeOf(result);
    const prev = this.outcome;
    this.outcome = { attempt, ...next };
    if (prev?.reason !== next.reason || prev?.origin !== next.origin) {
      upsertSearchAttributes([
        { key: SA.reason, value: next.reason },
        { key: SA.origin, value: next.origin ?? null },
      ]);
    }
    this.showDetails();
  }

  setPhase(phase: Phase, host?: string): void {
    this.state.phase = phase;
    if (host !== undefined) this.state.host = host;
    if (this.indexed.phase !== phase || (host !== undefined && this.indexed.host !== host)) {
      upsertSearchAttributes([{ key: SA.phase, value: phase }, ...(host !== undefined ? [{ key: SA.host, value: host }] : [])]);
      const indexedHost = host ?? this.indexed.host;
      this.indexed = { phase, ...(indexedHost !== undefined ? { host: indexedHost } : {}) };
    }
    this.showDetails();
  }

  /** The UI's current details: phase, attempt, host, and the latest recorded outcome (never a grade or an id). */
  private showDetails(): void {
    const { phase, attempt, host } = this.state;
    const o = this.outcome;
    const outcome = o ? ` · attempt ${o.attempt}: **${o.reason}**${o.origin ? ` (${o.origin})` : ''}` : '';
    setCurrentDetails(`**${phase}** · attempt ${attempt}${host ? ` · host ${host}` : ''}${outcome}`);
  }
}
