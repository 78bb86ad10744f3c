/**
 * TAP (Test Anything Protocol, versions 12, 13 and 14) on stdout, read with tapjs's `tap-parser`.
 *
 * Grading rules:
 * - One test per TOP-LEVEL test point (`ok` / `not ok`). Subtests (indented, TAP 14 / node:test / tap) are not
 *   flattened: the parent test point that closes a subtest summarizes it, is worth 1 point, and names its failed
 *   subtests in its output. This keeps the top-level plan the denominator and never counts a suite and its
 *   cases twice.
 * - Each test is worth 1 point: `ok` → passed 1/1, `not ok` → failed 0/1. `# SKIP` → skipped 0/1.
 *   `# TODO` → 0/0 (does not count), status passed if ok else failed.
 * - Unnumbered test points take the number after the previous one. A test point whose number was already seen,
 *   or lies outside the plan, is listed as an `error` worth 0/0: it neither raises nor lowers the grade.
 * - The stream starts at the last top-level `TAP version N` line when there is one; everything printed before it
 *   is ignored. (TAP on a stdout the student's code shares can still be forged after that line: a grader prints
 *   its whole stream last, once the student's processes are gone — see docs/graders.md.)
 * - Numbers the plan announces but nobody reported are failed tests `test <n> (missing)`, 0/1.
 * - `Bail out!` → success:false with error `the tests bailed out: <reason>` (tests seen so far are kept).
 * - No plan and no test point → problem `no TAP test lines`.
 * - grade = Σ score, max_grade = Σ max_score; with a configured maxGrade, grade = Σ score / Σ max_score × maxGrade
 *   (0 when Σ max_score is 0) and max_grade = maxGrade. Computed values are rounded to 4 decimals.
 * - Output of a test: its YAML diagnostics, its failed subtests, and the `#` comments that follow it (before the
 *   next test point or plan), e.g. Test::More's `#   Failed test …` lines.
 * Text before, between and after the TAP lines (student prints) is ignored. Total: never throws; no I/O.
 */
import { Parser, type Result } from 'tap-parser';
import type { TestResult } from '../result-schema';
import { droppedTestsComment, MAX_NAME, MAX_OUTPUT_BYTES, MAX_TESTS, maxGradeProblem, scaledGrade, truncateChars, truncateOutput } from './bounds';
import { total } from './total';
import type { FormatParser, GraderOutput, ParseOutcome, ParsedGrade } from './types';

/** A plan announcing more tests than this is not believed. */
const MAX_PLANNED = 1_000_000;
const MAX_SUBTEST_NAMES = 50;
/** Lines indented more than this (32 subtest levels) are dropped. */
const MAX_INDENT = 128;
const MAX_YAML_BLOCK_LINES = 200;
const MAX_YAML_LINES = 20_000;
const END_SENTINEL = '# gradeflow: end of the grader output\n';
const SYNTHETIC_COMMENT = /^# test count\(\d+\) != plan\((?:\d+|null)\)\n?$/;

interface Point {
  result: Result;
  comments: string[];
  failedSubtests: string[];
}

/** Line-start checks for `detect`. */
const VERSION_LINE = /^TAP version \d+\s*$/;
const PLAN_LINE = /^\d+\.\.\d+(?:\s*#.*)?\s*$/;
const TEST_LINE = /^(?:not )?ok\b/;

function looksLikeTap(stdout: string): boolean {
  let header = false;
  let point = false;
  let from = 0;
  while (from <= stdout.length) {
    let to = stdout.indexOf('\n', from);
    if (to === -1) to = stdout.length;
    // Only the start of a line matters; a bounded prefix keeps this cheap on very long lines.
    const line = stdout.slice(from, Math.min(to, from + 200)).replace(/\r$/, '');
    if (!header && (VERSION_LINE.test(line) || PLAN_LINE.test(line))) header = true;
    if (!point && TEST_LINE.test(line)) point = true;
    if (header && point) return true;
    from = to + 1;
  }
  return false;
}

function parseTap(output: GraderOutput): ParseOutcome {
  const stdout = typeof output.stdout === 'string' ? output.stdout : '';
  const badMaxGrade = maxGradeProblem(output);
  if (badMaxGrade) return badMaxGrade;
  const maxGrade = output.maxGrade;
  // tap-parser splits lines with /^.*\r?\n/, whose `.` stops at a lone CR, U+2028 and U+2029: normalize them,
  // or everything after such a character would be ignored.
  let text = stdout.replace(/\r\n?/g, '\n').replace(/[\u2028\u2029]/g, ' ');
  // A `TAP version` line starts the stream (the spec wants it first): test points printed before it (by the
  // student's code, say) are not part of it, and must not turn the grader's own plan into a trailing one.
  // The last one counts, as the last block does in the other stdout formats: a grader that prints its TAP
  // last, after ending the student's processes, is not overridden by a stream they printed earlier.
  const version = [...text.matchAll(/^TAP version \d+[ \t]*$/gm)].at(-1);
  if (version !== undefined) text = text.slice(version.index);
  text = boundInput(text);

  const points: Point[] = [];
  let plan: { start: number; end: number; comment: string } | null = null;
  let bailout: string | null = null;
  let attachComments: Point | null = null;
  let pendingFailedSubtests: string[] = [];
  // tap-parser synthesizes a plan and `# test count(…) != plan(…)` comments when the input ends; those are not
  // the grader's. Comments are queued behind a pending test point, so a sentinel comment line written after the
  // input marks where the input's own plans and comments end.
  let inputDone = false;

  const parser = new Parser();
  parser.on('assert', (result: Result) => {
    const point: Point = { result, comments: [], failedSubtests: pendingFailedSubtests };
    pendingFailedSubtests = [];
    points.push(point);
    attachComments = point;
  });
  parser.on('plan', (p: { start: number; end: number; comment?: string }) => {
    if (plan === null && !inputDone) plan = { start: p.start, end: p.end, comment: typeof p.comment === 'string' ? p.comment : '' };
    attachComments = null;
  });
  parser.on('comment', (line: string) => {
    if (typeof line !== 'string' || inputDone) return;
    if (line === END_SENTINEL) {
      inputDone = true;
      return;
    }
    if (attachComments === null || SYNTHETIC_COMMENT.test(line)) return;
    if (/^\s*#\s*Subtest\b/.test(line) || /^\s*#\s*Looks like /.test(line)) return;
    attachComments.comments.push(line.replace(/\n$/, ''));
  });
  parser.on('bailout', (reason: unknown) => {
    if (bailout === null) bailout = typeof reason === 'string' ? reason.trim() : '';
  });
  parser.on('child', (child: Parser) => watchChild(child, (name) => {
    if (pendingFailedSubtests.length < MAX_SUBTEST_NAMES) pendingFailedSubtests.push(name);
  }));
  parser.write(text);
  parser.write(END_SENTINEL);
  parser.end();
  if (parser.syntheticPlan) plan = null;

  if (bailout !== null) {
    const built = buildTests(points, null);
    return {
      ok: true,
      parsed: {
        success: false,
        error: `the tests bailed out: ${bailout === '' ? 'no reason given' : bailout}`,
        comments: built.comments,
        tests: built.tests,
      },
    };
  }

  const thePlan = plan as { start: number; end: number; comment: string } | null;
  if (thePlan === null && points.length === 0) return { ok: false, problem: 'no TAP test lines' };
  if (thePlan !== null) {
    if (!Number.isSafeInteger(thePlan.start) || !Number.isSafeInteger(thePlan.end)) {
      return { ok: false, problem: 'the TAP plan is not a pair of whole numbers' };
    }
    if (thePlan.end - thePlan.start + 1 > MAX_PLANNED) {
      return { ok: false, problem: `the TAP plan announces more than ${MAX_PLANNED} tests` };
    }
  }

  const built = buildTests(points, thePlan);
  if (!Number.isFinite(built.score) || !Number.isFinite(built.max)) return { ok: false, problem: 'the TAP scores add up to a non-finite number' };
  const comments = built.comments;
  if (thePlan !== null && points.length === 0 && thePlan.end < thePlan.start) {
    comments.push(`all tests were skipped${thePlan.comment ? `: ${thePlan.comment.replace(/^\s*skip\S*\s*/i, '')}` : ''}`);
  }
  const parsed: ParsedGrade = { success: true, ...scaledGrade(built.score, built.max, maxGrade), comments, tests: built.tests };
  return { ok: true, parsed };
}

/**
 * Keep tap-parser's work linear: drop lines nested deeper than MAX_INDENT (each indentation level is another
 * child parser that re-reads the line, and very deep indentation overflows the stack; only top-level test points
 * count anyway), and cap YAML diagnostic blocks (the YAML parser is superlinear in the keys of one block).
 * Returns the text with a final newline.
 */
function boundInput(text: string): string {
  const out: string[] = [];
  let yamlIndent = -1;
  let blockLines = 0;
  let yamlLines = 0;
  for (const line of text.split('\n')) {
    const indent = leadingBlanks(line);
    if (indent > MAX_INDENT) continue;
    const trimmed = line.trim();
    if (yamlIndent !== -1) {
      if (trimmed === '...') {
        yamlIndent = -1;
        out.push(line);
        continue;
      }
      if (trimmed === '' || indent >= yamlIndent) {
        blockLines++;
        yamlLines++;
        if (blockLines <= MAX_YAML_BLOCK_LINES && yamlLines <= MAX_YAML_LINES) out.push(line);
        continue;
      }
      yamlIndent = -1; // a dedented line ends an unterminated block
    }
    if (indent > 0 && trimmed === '---') {
      yamlIndent = indent;
      blockLines = 0;
    }
    out.push(line);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.join('\n') + '\n';
}

function leadingBlanks(line: string): number {
  let i = 0;
  while (i < line.length && i <= MAX_INDENT) {
    const c = line.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09) break;
    i++;
  }
  return i;
}

/** Collect the names (full paths) of failed, non-TODO test points anywhere below a subtest. */
function watchChild(child: Parser, onFailure: (name: string) => void): void {
  child.on('assert', (result: Result) => {
    if (!result.ok && !result.todo && !result.skip) {
      const name = typeof result.fullname === 'string' && result.fullname ? result.fullname : result.name || `test ${result.id}`;
      onFailure(name);
    }
  });
  child.on('child', (grandchild: Parser) => watchChild(grandchild, onFailure));
}

interface Built {
  tests: TestResult[];
  comments: string[];
  score: number;
  max: number;
}

function buildTests(points: Point[], plan: { start: number; end: number } | null): Built {
  const tests: TestResult[] = [];
  let score = 0;
  let max = 0;
  let dropped = 0;
  const seen = new Set<number>();
  let previous = 0;
  const add = (test: TestResult): void => {
    score += test.score;
    max += test.max_score;
    if (tests.length < MAX_TESTS) tests.push(test);
    else dropped++;
  };

  for (const point of points) {
    const r = point.result;
    const id = Number.isSafeInteger(r.id) && r.id > 0 ? r.id : previous + 1;
    previous = id;
    const name = cleanName(typeof r.name === 'string' ? r.name : '', `test ${id}`);
    const outputParts: string[] = [];
    let problem: string | null = null;
    if (seen.has(id)) problem = `test number ${id} appears more than once`;
    else if (plan !== null && (id < plan.start || id > plan.end)) problem = `test number ${id} is outside the plan ${plan.start}..${plan.end}`;
    seen.add(id);
    if (tests.length < MAX_TESTS) {
      // Only kept tests need an output.
      if (problem !== null) outputParts.push(problem);
      const diag = renderDiag(r.diag);
      if (diag) outputParts.push(diag);
      if (point.failedSubtests.length > 0) outputParts.push(`failed subtests: ${point.failedSubtests.join(', ')}`);
      if (point.comments.length > 0) outputParts.push(point.comments.join('\n'));
    }
    const output = outputParts.length > 0 ? truncateOutput(outputParts.join('\n')) : undefined;

    let test: TestResult;
    if (problem !== null) test = { name, score: 0, max_score: 0, status: 'error' };
    else if (r.todo) test = { name, score: 0, max_score: 0, status: r.ok ? 'passed' : 'failed' };
    else if (r.skip) test = { name, score: 0, max_score: 1, status: 'skipped' };
    else test = { name, score: r.ok ? 1 : 0, max_score: 1, status: r.ok ? 'passed' : 'failed' };
    if (output !== undefined) test.output = output;
    add(test);
  }

  if (plan !== null && plan.end >= plan.start) {
    let seenInPlan = 0;
    for (const id of seen) if (id >= plan.start && id <= plan.end) seenInPlan++;
    const missing = plan.end - plan.start + 1 - seenInPlan;
    if (missing > 0) {
      max += missing;
      let listed = 0;
      for (let n = plan.start; n <= plan.end && listed < missing && tests.length < MAX_TESTS; n++) {
        if (seen.has(n)) continue;
        tests.push({ name: `test ${n} (missing)`, score: 0, max_score: 1, status: 'failed', output: 'the plan announced this test but it was not reported' });
        listed++;
      }
      dropped += missing - listed;
    }
  }

  const comments: string[] = [];
  if (dropped > 0) comments.push(droppedTestsComment(dropped));
  return { tests, comments, score, max };
}

/** A YAML-ish rendering of a test point's diagnostics, bounded in depth and size (diags may alias or cycle). */
function renderDiag(diag: unknown): string {
  if (diag === null || typeof diag !== 'object') return '';
  const lines: string[] = [];
  let size = 0;
  const push = (line: string): boolean => {
    if (size > MAX_OUTPUT_BYTES) return false;
    lines.push(line);
    size += line.length + 1;
    return true;
  };
  const walk = (key: string, value: unknown, indent: string, depth: number): boolean => {
    if (size > MAX_OUTPUT_BYTES) return false;
    if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      if (depth >= 4) return push(`${indent}${key}: …`);
      const entries: [string, unknown][] = Array.isArray(value)
        ? value.map((v, i): [string, unknown] => [String(i), v])
        : Object.entries(value as Record<string, unknown>);
      if (entries.length === 0) return push(`${indent}${key}: ${Array.isArray(value) ? '[]' : '{}'}`);
      if (!push(`${indent}${key}:`)) return false;
      for (const [k, v] of entries) {
        if (!walk(Array.isArray(value) ? '-' : k, v, `${indent}  `, depth + 1)) return false;
      }
      return true;
    }
    const text = scalarText(value);
    if (text.includes('\n')) {
      if (!push(`${indent}${key}: |`)) return false;
      for (const line of text.split('\n')) if (!push(`${indent}  ${line}`)) return false;
      return true;
    }
    return push(`${indent}${key}: ${text}`);
  };
  for (const [key, value] of Object.entries(diag as Record<string, unknown>)) {
    if (key === 'duration_ms') continue;
    if (key === 'type' && (value === 'suite' || value === 'test')) continue; // node:test's bookkeeping
    if (!walk(key, value, '', 0)) break;
  }
  return lines.join('\n');
}

function scalarText(value: unknown): string {
  try {
    if (typeof value === 'string') return value.replace(/\n+$/, '');
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    return String(value);
  } catch {
    return '?';
  }
}

function cleanName(raw: string, fallback: string): string {
  const name = raw.trim();
  return truncateChars(name === '' ? fallback : name, MAX_NAME);
}




export const tapParser: FormatParser = {
  format: 'tap',
  /**
   * TAP only if, at the start of lines (not indented), there is a `TAP version N` line or a plan `N..M`, AND at least
   * one `ok` / `not ok` test point: a lone "ok" or "1..3" in ordinary output is not enough.
   */
  detect(output: GraderOutput): boolean {
    try {
      return typeof output.stdout === 'string' && looksLikeTap(output.stdout);
    } catch {
      return false;
    }
  },
  parse: total('the TAP output', parseTap),
};

