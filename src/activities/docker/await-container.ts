import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { GradingSpec, StartedContainer } from '../../shared/activity-contracts';
import { ErrorTypes } from '../../shared/error-types';
import type { GradeResult } from '../../shared/types';
import { HandedOver, superviseContainer, type SuperviseDeps } from './supervise-container';

/**
 * Activity (a host's own queue): wait for a container that a previous worker on this host started and
 * handed over when it shut down. If this worker shuts down too, the retry goes to the next one here.
 */
export function createAwaitContainer(deps: SuperviseDeps) {
  return async function awaitContainer(spec: GradingSpec, started: StartedContainer): Promise<GradeResult> {
    try {
      return await superviseContainer(deps, Context.current(), spec, started);
    } catch (err) {
      if (err instanceof HandedOver) throw ApplicationFailure.retryable(err.message, ErrorTypes.WorkerShutdown);
      throw err;
    }
  };
}
