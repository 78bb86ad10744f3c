import { describeSchemaError, validateCorrectomatic, type CorrectomaticResponse } from '../schemas';
import { total } from './total';
import type { FormatParser } from './types';

const BEGIN_MARKER = '--BEGIN CORRECTOMATIC RESPONSE--';
const END_MARKER = '--END CORRECTOMATIC RESPONSE--';

export type ParsedResponse =
  | { ok: true; response: CorrectomaticResponse }
  | { ok: false; problem: string };

/**
 * The text to parse: the last complete block between marker lines, or else the whole stdout.
 * The last block wins so that a grader can print its verdict after anything the student printed;
 * a student who forges a block earlier in the output is overridden by the grader's own final block.
 */
export function extractResponseText(stdout: string): string {
  const lines = stdout.split(/\r?\n/);
  let end = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i]!.trim() === END_MARKER) {
      end = i;
      break;
    }
  }
  if (end !== -1) {
    for (let i = end - 1; i >= 0; i--) {
      if (lines[i]!.trim() === BEGIN_MARKER) return lines.slice(i + 1, end).join('\n');
    }
  }
  return stdout;
}

/** Parse a correctomatic response out of a grader's stdout. Total: never throws. */
export function parseCorrectomatic(stdout: string): ParsedResponse {
  const text = extractResponseText(stdout).trim();
  if (text === '') return { ok: false, problem: 'the grader printed no response' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `the response is not valid JSON (${(err as Error).message})` };
  }
  if (!validateCorrectomatic(value)) {
    return { ok: false, problem: `the response ${describeSchemaError(validateCorrectomatic)}` };
  }
  return { ok: true, response: value };
}

/** Where the last complete marker block ends in stdout (-1 if none): for `auto`, the grader speaks last. */
export function lastBlockEnd(stdout: string): number {
  const end = stdout.lastIndexOf(END_MARKER);
  if (end === -1) return -1;
  return stdout.lastIndexOf(BEGIN_MARKER, end) === -1 ? -1 : end;
}

/** correctomatic: `{success, grade?, comments?, error?}` as the whole stdout or the last marker block. */
export const correctomaticParser: FormatParser = {
  format: 'correctomatic',
  detect: (o) => lastBlockEnd(o.stdout) !== -1,
  parse: total('the correctomatic response', (o) => {
    const parsed = parseCorrectomatic(o.stdout);
    if (!parsed.ok) return parsed;
    const r = parsed.response;
    return {
      ok: true,
      parsed: {
        success: r.success,
        ...(r.grade !== undefined ? { grade: r.grade } : {}),
        comments: r.comments ?? [],
        tests: [],
        ...(r.error !== undefined ? { error: r.error } : {}),
      },
    };
  }),
};
