import type { GraderOutput, ParseOutcome } from './types';

/** What a parsed result may hold at most, whatever the grader wrote. */
export const MAX_TESTS = 1000;
export const MAX_NAME = 1024;
export const MAX_OUTPUT_BYTES = 64 * 1024;

/** Cut to `max` UTF-16 units without leaving half of a surrogate pair. */
export function truncateChars(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = s.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut;
}

/** A test's output cut to MAX_OUTPUT_BYTES of UTF-8, with a marker saying so. */
export function truncateOutput(s: string): string {
  if (s.length * 3 <= MAX_OUTPUT_BYTES || Buffer.byteLength(s, 'utf8') <= MAX_OUTPUT_BYTES) return s;
  const marker = '\n… (truncated)';
  return Buffer.from(s, 'utf8').subarray(0, MAX_OUTPUT_BYTES - Buffer.byteLength(marker)).toString('utf8').replace(/\uFFFD+$/, '') + marker;
}

/** The comment added when tests beyond MAX_TESTS were dropped. */
export const droppedTestsComment = (dropped: number): string => `${dropped} more tests were dropped: only the first ${MAX_TESTS} are listed`;

/** Rounded to 4 decimals (no -0); a value too large to round is returned as it is. */
export function round4(x: number): number {
  const r = Math.round(x * 1e4) / 1e4;
  if (!Number.isFinite(r)) return x;
  return r === 0 ? 0 : r;
}

/** The problem with a configured max grade, if any (the API already refuses such values). */
export function maxGradeProblem(output: GraderOutput): ParseOutcome | undefined {
  const maxGrade = output.maxGrade;
  if (maxGrade !== undefined && (!Number.isFinite(maxGrade) || maxGrade < 0)) {
    return { ok: false, problem: 'the configured max grade is not a finite non-negative number' };
  }
  return undefined;
}

/**
 * Points earned out of points available, as grade and max_grade: as they are, or scaled to a configured
 * max grade (0 when nothing was available). Rounded to 4 decimals.
 */
export function scaledGrade(score: number, max: number, maxGrade: number | undefined): { grade: number; max_grade: number } {
  if (maxGrade === undefined) return { grade: round4(score), max_grade: round4(max) };
  return { grade: max === 0 ? 0 : round4((score / max) * maxGrade), max_grade: maxGrade };
}
