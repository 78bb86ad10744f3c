import type { GradingSettings } from '../shared/types';

/** Where the submission lands for every format but Gradescope's. */
export const SUBMISSION_DIR = '/submission';

/** Gradescope's layout: graders find the submission here, write results here, and are run as this program. */
export const GRADESCOPE = {
  root: '/autograder',
  submissionDir: '/autograder/submission',
  resultsDir: '/autograder/results',
  resultsFile: '/autograder/results/results.json',
  program: '/autograder/run_autograder',
  workingDir: '/autograder',
} as const;

/**
 * Where the image's own content of a writable root (Gradescope's /autograder) waits, in an anonymous volume,
 * for the container's first process to copy it into the root's tmpfs (Docker fills no tmpfs from the image).
 */
export const IMAGE_COPY_DIR = '/gradeflow-image-copy';

/** Where a JUnit grader writes its XML unless its assignment says otherwise (a tmpfs gradeflow mounts). */
export const DEFAULT_JUNIT_FILE = '/autograder/results/junit.xml';

/** Writable directories a results file may be in: both are tmpfs mounts in every file-format container. */
export const WRITABLE_DIRS = ['/tmp', GRADESCOPE.resultsDir] as const;

/** How the container is laid out for a submission's result format. */
export interface ContainerLayout {
  submissionDir: string;
  /** A writable tmpfs for results, besides /tmp. */
  resultsDir?: string;
  /** The file the grading host reads back after the grader exits. */
  resultsFile?: string;
  /**
   * A directory the grader may write, as on Gradescope (/autograder): a tmpfs bounded by the flavour's
   * `tmpfsMb`, filled with the image's own content of it (through IMAGE_COPY_DIR) before the grader runs.
   */
  writableRoot?: string;
  /** A file gradeflow writes into the writable root: Gradescope's submission_metadata.json. */
  metadataFile?: string;
  /** The grader's command instead of the image's own. */
  command?: string[];
  workingDir?: string;
}

/** Pure: the container layout for a submission's grading settings (absent settings: an older workflow, auto). */
export function containerLayout(grading: GradingSettings | undefined): ContainerLayout {
  switch (grading?.format) {
    case 'gradescope':
      return {
        writableRoot: GRADESCOPE.root,
        metadataFile: 'submission_metadata.json',
        submissionDir: GRADESCOPE.submissionDir,
        resultsDir: GRADESCOPE.resultsDir,
        resultsFile: GRADESCOPE.resultsFile,
        command: [GRADESCOPE.program],
        workingDir: GRADESCOPE.workingDir,
      };
    case 'junit':
      return { submissionDir: SUBMISSION_DIR, resultsDir: GRADESCOPE.resultsDir, resultsFile: grading.resultsFile ?? DEFAULT_JUNIT_FILE };
    default:
      return { submissionDir: SUBMISSION_DIR };
  }
}
