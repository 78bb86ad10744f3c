import path from 'node:path';
import type { LocalImage } from '../../src/setup/images';

/** Runs the submitted file as a shell script: each test's submission plays the grader. */
export const SCRIPT_RUNNER = 'gradeflow-test/script-runner:1';

export const TEST_IMAGES: LocalImage[] = [{ tag: SCRIPT_RUNNER, dir: path.resolve(__dirname, '..', 'images', 'script-runner') }];
