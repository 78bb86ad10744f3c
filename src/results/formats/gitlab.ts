/**
 * gitlab-ag format (xybu/gitlab-ag): the grader prints free text for the student and, somewhere in stdout, a
 * machine-readable block
 *
 *     <summary>
 *     grade_total = 30
 *     grade_datetime = 2015-01-15 10:00:00 +0000
 *     </summary>
 *
 * whose content is INI. `grade_total` (required, a finite number) is the grade; `max_grade` (or `grade_max`),
 * when present, is the maximum, else the configured `maxGrade`. Keys inside `[sections]` are not top-level keys
 * and are ignored. The whole stdout, summary included, is the student's feedback (gitlab-ag sends it to them).
 *
 * The LAST complete block wins: the grader prints its block after running the student's code, so a block the
 * student forges earlier is overridden. Total: never throws; no I/O.
 */
import { parse as parseIni } from 'ini';
import { total } from './total';
import type { FormatParser, GraderOutput, ParseOutcome } from './types';

const OPEN = '<summary>';
const CLOSE = '</summary>';
/** A plain decimal number; rejects '', hex, 'Infinity' and other things Number() would accept. */
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The content of the last complete `<summary>` … `</summary>` block, or null when there is none. */
function extractSummary(stdout: string): string | null {
  const end = stdout.lastIndexOf(CLOSE);
  if (end === -1) return null;
  const start = stdout.lastIndexOf(OPEN, end - OPEN.length);
  if (start === -1) return null;
  return stdout.slice(start + OPEN.length, end);
}

type NumberRead = { ok: true; value: number | undefined } | { ok: false; problem: string };

function readNumber(config: Record<string, unknown>, key: string): NumberRead {
  if (!Object.hasOwn(config, key)) return { ok: true, value: undefined };
  const raw = config[key];
  if (typeof raw !== 'string') return { ok: false, problem: `${key} in the <summary> block is not a number` };
  const text = raw.trim();
  if (!NUMBER.test(text)) return { ok: false, problem: `${key} in the <summary> block is not a number: ${JSON.stringify(text.slice(0, 40))}` };
  const value = Number(text);
  if (!Number.isFinite(value)) return { ok: false, problem: `${key} in the <summary> block is not a finite number` };
  return { ok: true, value };
}

function parseGitlab(output: GraderOutput): ParseOutcome {
  const stdout = typeof output.stdout === 'string' ? output.stdout : '';
  const summary = extractSummary(stdout);
  if (summary === null) return { ok: false, problem: 'stdout has no complete <summary> … </summary> block' };
  // Keys after the first [section] header belong to sections, which are ignored: don't even parse them (a long
  // dotted header would make the INI parser build deeply nested objects).
  const firstSection = /^\[[^\]\r\n]*\][ \t]*\r?$/m.exec(summary);
  const config = parseIni(firstSection === null ? summary : summary.slice(0, firstSection.index)) as Record<string, unknown>;

  const total = readNumber(config, 'grade_total');
  if (!total.ok) return total;
  if (total.value === undefined) return { ok: false, problem: 'the <summary> block has no grade_total' };

  let max: number | undefined;
  for (const key of ['max_grade', 'grade_max']) {
    const read = readNumber(config, key);
    if (!read.ok) return read;
    if (read.value !== undefined) {
      if (read.value < 0) return { ok: false, problem: `${key} in the <summary> block is negative` };
      max = read.value;
      break;
    }
  }
  if (max === undefined && output.maxGrade !== undefined) {
    if (!Number.isFinite(output.maxGrade) || output.maxGrade < 0) {
      return { ok: false, problem: 'the configured max grade is not a finite non-negative number' };
    }
    max = output.maxGrade;
  }

  return {
    ok: true,
    parsed: {
      success: true,
      grade: total.value,
      ...(max !== undefined ? { max_grade: max } : {}),
      comments: [],
      tests: [],
      feedback: { format: 'text', content: stdout },
    },
  };
}

export const gitlabParser: FormatParser = {
  format: 'gitlab',
  /** A line contains `<summary>` and a `</summary>` follows it somewhere later. */
  detect(output: GraderOutput): boolean {
    try {
      const stdout = output.stdout;
      if (typeof stdout !== 'string') return false;
      const open = stdout.indexOf(OPEN);
      return open !== -1 && stdout.indexOf(CLOSE, open + OPEN.length) !== -1;
    } catch {
      return false;
    }
  },
  parse: total('the gitlab output', parseGitlab),
};

