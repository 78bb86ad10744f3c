import type { FormatChoice, ResultFormat } from '../../shared/types';
import { correctomaticParser, lastBlockEnd } from './correctomatic';
import { gitlabParser } from './gitlab';
import { gradescopeParser } from './gradescope';
import { junitParser } from './junit';
import { tapParser } from './tap';
import type { FormatParser, GraderOutput, ParseOutcome } from './types';

const PARSERS: Readonly<Record<ResultFormat, FormatParser>> = {
  correctomatic: correctomaticParser,
  gitlab: gitlabParser,
  gradescope: gradescopeParser,
  junit: junitParser,
  tap: tapParser,
};

/** Formats read from a file the grader writes (the container is prepared for them); the rest read stdout. */
export const FILE_FORMATS: ReadonlySet<ResultFormat> = new Set(['gradescope', 'junit']);

/**
 * Where each stdout format's evidence ends, for `auto`. The latest evidence wins: the grader prints its
 * verdict after whatever the student's code printed, so a forged block earlier in stdout never outranks it.
 */
const EVIDENCE_END: ReadonlyArray<[ResultFormat, (stdout: string) => number]> = [
  ['correctomatic', lastBlockEnd],
  ['gitlab', (s) => (s.lastIndexOf('<summary>', s.lastIndexOf('</summary>')) === -1 ? -1 : s.lastIndexOf('</summary>'))],
  ['tap', (s) => Math.max(s.lastIndexOf('\nok'), s.lastIndexOf('\nnot ok'), s.lastIndexOf('\n1..'), s.startsWith('ok') || s.startsWith('not ok') || s.startsWith('1..') ? 0 : -1)],
];

/**
 * `auto` among the stdout formats: of those whose markers are present (a correctomatic marker block, a
 * gitlab-ag `<summary>` block, a TAP stream with a plan or version line), the one whose evidence ends
 * last in stdout; with none present, the whole stdout as a correctomatic JSON response.
 */
export function detectFormat(output: GraderOutput): ResultFormat {
  let best: { format: ResultFormat; at: number } | undefined;
  for (const [format, end] of EVIDENCE_END) {
    if (!PARSERS[format].detect?.(output)) continue;
    const at = end(output.stdout);
    if (!best || at > best.at) best = { format, at };
  }
  return best?.format ?? 'correctomatic';
}

/** Parse a grader's output in the chosen format (`auto`: detected). Total: every parser is (see total.ts). */
export function parseGraderOutput(choice: FormatChoice, output: GraderOutput): { format: ResultFormat; outcome: ParseOutcome } {
  const format = choice === 'auto' ? detectFormat(output) : choice;
  return { format, outcome: PARSERS[format].parse(output) };
}
