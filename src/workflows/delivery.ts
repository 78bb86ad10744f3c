import { ApplicationFailure, CancellationScope, isCancellation, patched, sleep } from '@temporalio/workflow';
import type { DeliveryRequest, FirstDeliveryTry } from '../shared/activity-contracts';
import { callbackBody } from '../shared/callback-body';
import { ErrorTypes } from '../shared/error-types';
import { statusOnDelivered } from '../shared/status';
import type { GradeResult, GradeSubmissionInput } from '../shared/types';
import { deliveryProxy, storeWriteProxy } from './activity-options';

/** One attempt's callback after its first try. */
interface Delivery {
  attempt: number;
  scope: CancellationScope;
  /** Set when a newer attempt's result replaces this one. */
  superseded?: boolean;
  /** undefined while in flight; then whether the receiver accepted it. */
  delivered?: boolean;
}

/** `image`: the one that graded the attempt; the body names it in runs that have the patch `callback-names-image`. */
export function deliveryRequest(input: GradeSubmissionInput, attempt: number, result: GradeResult, image: string): DeliveryRequest {
  const named = patched('callback-names-image') ? image : undefined;
  return {
    submissionId: input.submissionId,
    platformId: input.platformId,
    attempt,
    url: input.callbackUrl!,
    body: callbackBody({ submissionId: input.submissionId, workId: input.workId }, attempt, result, named),
    statusWhenDelivered: statusOnDelivered(result.reason),
  };
}

/**
 * The callbacks of a run. The first try of each is made with the record of its result; when it fails, the
 * retries run here in the background (a regular activity on the delivery queue), in a scope of their own,
 * so that a newer attempt's result can supersede them: cancel them and record the older delivery as
 * superseded. Only the latest delivery matters to the run's outcome.
 *
 * Replay note: the awaits below are laid out so that each command is issued at the same point (the same
 * number of promise steps) as in the promise chain this replaced; keep them so (docs/ARCHITECTURE.md).
 */
export class Deliveries {
  private latest: Delivery | undefined;

  constructor(private readonly input: GradeSubmissionInput) {}

  /** The latest delivery is still being retried. */
  get inFlight(): boolean {
    return this.latest !== undefined && this.latest.delivered === undefined;
  }

  /** How the latest delivery ended: none (no callback), delivered or undelivered. */
  get outcome(): 'none' | 'delivered' | 'undelivered' {
    if (!this.latest) return 'none';
    return this.latest.delivered ? 'delivered' : 'undelivered';
  }

  /** A newer result replaces the one still being delivered (if any). */
  supersedeLatest(): void {
    if (!this.latest) return;
    this.latest.superseded = true;
    this.latest.scope.cancel();
  }

  /** The delivery of `request` after its first try: done if that delivered it, else retried in the background. */
  start(request: DeliveryRequest, first: FirstDeliveryTry): void {
    const d: Delivery = { attempt: request.attempt, scope: new CancellationScope() };
    this.latest = d;
    if (first.delivered) {
      d.delivered = true;
      return;
    }
    void this.settle(d, request, first);
  }

  private async settle(d: Delivery, request: DeliveryRequest, first: FirstDeliveryTry & { delivered: false }): Promise<void> {
    let delivered: boolean;
    try {
      delivered = await this.retried(d, request, first);
    } catch (err) {
      delivered = await this.undelivered(d, err);
    }
    d.delivered = delivered;
  }

  private async retried(d: Delivery, request: DeliveryRequest, first: FirstDeliveryTry & { delivered: false }): Promise<true> {
    await d.scope.run(() => this.retries(request, first));
    return true;
  }

  private async retries(request: DeliveryRequest, first: FirstDeliveryTry & { delivered: false }): Promise<unknown> {
    if (!first.retryable) throw ApplicationFailure.nonRetryable(first.error, ErrorTypes.CallbackForbidden);
    // A first try that was made and failed: the retries keep the policy's first interval (a skipped one need not).
    if (!first.skipped && patched('wait-after-first-try')) await sleep(this.input.callbackPolicy.initialIntervalMs);
    return deliveryProxy(this.input, `attempt ${request.attempt}: deliver callback (retries)`).deliverCallback(request);
  }

  /** The retries ended without delivering: record why (superseded, or given up). Always false. */
  private async undelivered(d: Delivery, err: unknown): Promise<false> {
    // An operator's cancel of the whole run is recorded once, by the workflow; not here.
    if (isCancellation(err) && !d.superseded) return false;
    const error = d.superseded ? 'superseded by a newer attempt' : err instanceof Error ? (err.cause ?? err).toString() : String(err);
    await CancellationScope.nonCancellable(() =>
      storeWriteProxy(`attempt ${d.attempt}: record delivery outcome`).recordDeliveryFailure({
        submissionId: this.input.submissionId,
        attempt: d.attempt,
        superseded: d.superseded === true,
        error,
      }),
    );
    return false;
  }
}
