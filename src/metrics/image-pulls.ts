import { ApplicationFailure } from '@temporalio/common';
import { ErrorTypes } from '../shared/error-types';
import { imagePulls } from './host-metrics';

/** A pull, counted in `gradeflow_image_pulls_total` by how it ended (a cancelled pull is not counted). */
export async function countPull(pull: Promise<void>): Promise<void> {
  try {
    await pull;
    imagePulls.inc({ result: 'pulled' });
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === ErrorTypes.ImagePullFailed) imagePulls.inc({ result: 'failed' });
    throw err;
  }
}
