import path from 'node:path';
import type { LocalImage } from '../../src/setup/images';
import { PROJECT_ROOT } from '../../src/setup/paths';

// PROJECT_ROOT, not __dirname: the bench runs these helpers compiled, from dist-bench/.
const IMAGES_DIR = path.join(PROJECT_ROOT, 'test', 'images');

/** Runs the submitted file as a shell script: each test's submission plays the grader. */
export const SCRIPT_RUNNER = 'gradeflow-test/script-runner:1';

/** Gradescope's own Python sample, its files unchanged (test/images/gradescope-python-sample/Dockerfile says from where). */
export const GRADESCOPE_SAMPLE = 'gradeflow-test/gradescope-python-sample:1';

/** Gradescope's recommended root pattern: run_autograder runs the submission with `runuser -u student`. */
export const GRADESCOPE_RUNUSER = 'gradeflow-test/gradescope-runuser:1';

/** Reports what gradeflow told it (submission_metadata.json, environment) as its feedback. */
export const GRADESCOPE_METADATA = 'gradeflow-test/gradescope-metadata:1';

export const TEST_IMAGES: LocalImage[] = [
  { tag: SCRIPT_RUNNER, dir: path.join(IMAGES_DIR, 'script-runner') },
  { tag: GRADESCOPE_SAMPLE, dir: path.join(IMAGES_DIR, 'gradescope-python-sample') },
  { tag: GRADESCOPE_RUNUSER, dir: path.join(IMAGES_DIR, 'gradescope-runuser') },
  { tag: GRADESCOPE_METADATA, dir: path.join(IMAGES_DIR, 'gradescope-metadata') },
];

/** The bench's grader (the process stack's platform may run `gradeflow-bench/*`): runs the submission as a shell script, as the script runner does. */
export const BENCH_IMAGE: LocalImage = { tag: 'gradeflow-bench/runner:1', dir: path.join(IMAGES_DIR, 'bench-runner') };
