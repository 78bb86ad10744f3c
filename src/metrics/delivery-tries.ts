import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorTypes } from '../shared/error-types';
import type { DeliveryRequest } from '../shared/activity-contracts';
import { callbackTries } from './server-metrics';

/** The try's attempt bucket: `first` for the try made with the record, else the retrying activity's attempt. */
function attemptBucket(): string {
  let info: Context['info'] | undefined;
  try {
    info = Context.current().info;
  } catch {
    return 'first';
  }
  if (info.activityType !== 'deliverCallback') return 'first';
  const n = info.attempt;
  return n <= 2 ? String(n) : n <= 5 ? '3-5' : n <= 10 ? '6-10' : '11+';
}

/** A failed try's result label; undefined for a cancelled try (not the receiver's doing: not counted). */
function failedResult(err: unknown): string | undefined {
  if (!(err instanceof ApplicationFailure)) return undefined;
  switch (err.type) {
    case ErrorTypes.CallbackNotAccepted:
      return 'rejected';
    case ErrorTypes.CallbackUnreachable:
      return 'unreachable';
    case ErrorTypes.CallbackGone:
      return 'gone';
    case ErrorTypes.CallbackForbidden:
      return 'refused';
    default:
      return undefined;
  }
}

/** `deliveryTry`, counting each try that reached an outcome in `gradeflow_callback_deliveries_total`. */
export function countDeliveryTries<A extends [DeliveryRequest, ...unknown[]], T>(deliveryTry: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
  return async (...args: A): Promise<T> => {
    const platform = args[0].platformId;
    const attempt = attemptBucket();
    try {
      const answer = await deliveryTry(...args);
      callbackTries.inc({ platform, result: 'delivered', attempt });
      return answer;
    } catch (err) {
      const result = failedResult(err);
      if (result) callbackTries.inc({ platform, result, attempt });
      throw err;
    }
  };
}
