/**
 * How a file the grader writes inside the container reaches the grading host. The file lives on the
 * container's tmpfs, which vanishes when the container exits, so the container's first process is a
 * small POSIX shell script: it runs the grader, kills whatever the grader left running, then prints the
 * file (unless the grader died of a signal: then nothing it left is trusted), base64-encoded, as the very last thing on stdout, between two marker lines. Nothing can print
 * after it (every other process is gone, and PID 1 cannot be killed from inside), so the last frame in
 * stdout is the script's own: a frame forged earlier by the student's code is never the one read.
 */

import { isShellSafePath } from './results-file';

export const FRAME_BEGIN = '--GRADEFLOW RESULTS FILE--';
export const FRAME_END = '--GRADEFLOW RESULTS END--';
/** What the script prints instead of base64 when the grader wrote no file. */
const NO_FILE = '-';
/**
 * What it prints instead when the grader died of a signal (exit code above 128): its results file is not
 * read. The student's code runs as the grader's uid and may kill it, then leave a file of its own.
 */
const KILLED = '!';

/** The largest results file read; a larger one is refused (the base64 of it counts toward the output limit). */
const RESULTS_FILE_LIMIT_BYTES = 1024 * 1024;

/** Output room for the frame on top of the output limit: base64 of the largest file, line breaks, markers. */
export const FRAME_ALLOWANCE_BYTES = Math.ceil((RESULTS_FILE_LIMIT_BYTES + 1) / 3) * 4 * (77 / 76) + 256;

/**
 * The container's entrypoint: `sh -c <script> gradeflow <grader command…>`. The grader's exit code is
 * the container's. Reads one byte more than the limit so that an over-long file is noticed, not cut.
 * `fill`: first copy the image's content of a writable root from where it waits (see container-layout.ts).
 */
export function wrappedEntrypoint(command: string[], resultsFile: string, fill?: { from: string; to: string }): string[] {
  if (!isShellSafePath(resultsFile)) throw new Error(`unsafe results path ${JSON.stringify(resultsFile)}`);
  if (fill && !(isShellSafePath(fill.from) && isShellSafePath(fill.to))) throw new Error(`unsafe fill paths ${JSON.stringify(fill)}`);
  const copy = fill
    ? [`for f in '${fill.from}'/* '${fill.from}'/.[!.]* '${fill.from}'/..?*; do if [ -e "$f" ] || [ -L "$f" ]; then cp -R "$f" '${fill.to}'/; fi; done`]
    : [];
  const script = [
    ...copy,
    '"$@"',
    'code=$?',
    'kill -s KILL -1 2>/dev/null; kill -s KILL -1 2>/dev/null',
    `echo; echo '${FRAME_BEGIN}'`,
    `if [ "$code" -gt 128 ]; then echo '${KILLED}'; elif [ -f '${resultsFile}' ]; then head -c ${RESULTS_FILE_LIMIT_BYTES + 1} '${resultsFile}' | base64; else echo '${NO_FILE}'; fi`,
    `echo "${FRAME_END} $code"`,
    'exit $code',
  ].join('\n');
  return ['/bin/sh', '-c', script, 'gradeflow', ...command];
}

export type FramedOutput =
  /** The frame was found: stdout without it, and the file (null: the grader wrote none). */
  | { found: true; stdout: string; frameBytes: number; file: Buffer | null; problem?: string }
  | { found: false; stdout: string };

/** Split the script's frame off the end of stdout. Total: any text gives an answer. */
export function splitResultsFrame(stdout: string): FramedOutput {
  const trimmed = stdout.replace(/\s+$/, '');
  const endAt = trimmed.lastIndexOf(`\n${FRAME_END}`);
  // The end marker must be the last line: anything after it is not the script's frame.
  if (endAt === -1 || trimmed.indexOf('\n', endAt + 1) !== -1) return { found: false, stdout };
  const beginAt = trimmed.lastIndexOf(`\n${FRAME_BEGIN}\n`, endAt);
  if (beginAt === -1) return { found: false, stdout };
  const body = trimmed.slice(beginAt + FRAME_BEGIN.length + 2, endAt).trim();
  // The script printed "\n" before the begin marker: give the grader's stdout back without it.
  const before = stdout.slice(0, beginAt);
  const rest = { found: true as const, stdout: before, frameBytes: Buffer.byteLength(stdout) - Buffer.byteLength(before) };
  if (body === NO_FILE) return { ...rest, file: null };
  if (body === KILLED) {
    const code = /(\d+)$/.exec(trimmed.slice(endAt))?.[1] ?? '?';
    return { ...rest, file: null, problem: `the grader was killed by a signal (exit code ${code}), so its results file was not read` };
  }
  if (!/^[A-Za-z0-9+/=\s]*$/.test(body)) return { ...rest, file: null, problem: 'the results file could not be read back' };
  const file = Buffer.from(body, 'base64');
  if (file.length > RESULTS_FILE_LIMIT_BYTES) {
    return { ...rest, file: null, problem: `the results file is larger than ${RESULTS_FILE_LIMIT_BYTES} bytes` };
  }
  return { ...rest, file };
}
