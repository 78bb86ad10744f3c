import { Context } from '@temporalio/activity';
import type { RunOutcome, GradingSpec } from '../../shared/types';
import { launchContainer, type LaunchDeps } from './launch-container';
import { HandedOver, superviseContainer } from './supervise-container';

/**
 * Activity (flavour queue): one grading, whole, on whichever host takes it: launch the container, wait for
 * it, and answer with the result. One task queue round trip per grading. If this host shuts down while
 * the container runs, the container is left running and the answer says which host's queue holds it, so
 * that the workflow awaits it there (`awaitContainer`) instead of starting over.
 */
export function createRunContainer(deps: LaunchDeps) {
  return async function runContainer(spec: GradingSpec): Promise<RunOutcome> {
    const ctx = Context.current();
    const started = await launchContainer(deps, ctx, spec);
    try {
      return { kind: 'graded', started, result: await superviseContainer(deps, ctx, spec, started) };
    } catch (err) {
      if (err instanceof HandedOver) return { kind: 'handedOver', started: err.started };
      throw err;
    }
  };
}
