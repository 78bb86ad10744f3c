/**
 * Gradescope `results.json` (/autograder/results/results.json), as Gradescope's autograder specification and
 * Otter-Grader write it; checked against `schemas/gradescope-results.schema.json` (permissive: unknown fields
 * are allowed, known fields must have the documented types).
 *
 * - grade: the top-level `score` when present (it wins over the tests, as in Gradescope), else the sum of the
 *   tests' scores (rounded to 4 decimals); neither → problem.
 * - max_grade: the configured maxGrade (the assignment's) when given: Gradescope's total comes from the assignment,
 *   not from the tests; else the sum of the tests' `max_score` values when at least one test has one; else absent.
 * - tests: name = `name`, else `Test <number>`, else `Test <position>`; score default 0; max_score default the
 *   test's score (at least 0); status = `status` when given, else (max_score given ? score >= max_score ?
 *   passed : failed : passed); output (≤ 64 KiB), tags (≤ 64 of ≤ 256 chars), number, output_format and
 *   extra_data passed through; visibility = the test's own, else the top-level `visibility` (as Gradescope applies it).
 * - order: by `number` where given (Gradescope numbers unnumbered tests by their place), stable.
 * - grade_visibility: Gradescope hides the total while any test is not visible: the most restrictive of them.
 * - top-level `output` → feedback (markdown when `output_format` is `md`, else text); `output_format`,
 *   `stdout_visibility`, `execution_time` (a number, or a string of one as gradescope-utils writes it),
 *   `extra_data` and `leaderboard` passed through.
 * Total: never throws; no I/O at parse time (the schema is compiled when the module loads).
 */
import Ajv, { type ErrorObject } from 'ajv';
import { loadSchema } from '../schemas';
import type { LeaderboardEntry, TestResult, Visibility } from '../result-schema';
import { droppedTestsComment, MAX_NAME, MAX_TESTS, maxGradeProblem, round4, truncateChars, truncateOutput } from './bounds';
import { describeError, total } from './total';
import type { FormatParser, GraderExtras, GraderOutput, ParseOutcome, ParsedGrade } from './types';

const MAX_TAGS = 64;
const MAX_TAG = 256;
const MAX_NUMBER = 64;
const MAX_FORMAT = 32;
const MAX_LEADERBOARD = 64;
/** Deeper JSON is refused before JSON.parse, which gets slow on pathological nesting. */
const MAX_DEPTH = 256;

interface GradescopeTest {
  score?: number;
  max_score?: number;
  status?: 'passed' | 'failed';
  name?: string;
  number?: string | number;
  output?: string;
  tags?: string[];
  visibility?: Visibility;
  output_format?: string;
  extra_data?: unknown;
}

interface GradescopeResults {
  score?: number;
  execution_time?: number | string;
  output?: string;
  output_format?: string;
  visibility?: Visibility;
  stdout_visibility?: Visibility;
  extra_data?: unknown;
  tests?: GradescopeTest[];
  leaderboard?: Array<{ name?: string; value?: number | string; order?: 'asc' | 'desc' }>;
}

/** How long a student waits to see something: visible < after_due_date < after_published < hidden. */
const RESTRICTION: Record<Visibility, number> = { visible: 0, after_due_date: 1, after_published: 2, hidden: 3 };

/** Gradescope hides the total while any test is not visible: when the student may see it, if not at once. */
function gradeVisibility(tests: TestResult[], topLevel: Visibility | undefined): GraderExtras['grade_visibility'] {
  let most: Visibility = topLevel ?? 'visible';
  for (const t of tests) if (t.visibility && RESTRICTION[t.visibility] > RESTRICTION[most]) most = t.visibility;
  return most === 'visible' ? undefined : most;
}

/** Gradescope's test numbers ("1.10" after "1.9"): dot-separated parts, numerically where both are numbers. */
function compareNumbers(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    const c = !Number.isNaN(nx) && !Number.isNaN(ny) ? nx - ny : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return c;
  }
  return 0;
}

/** Tests in Gradescope's order: by number, an unnumbered test numbered by its place; stable. */
function inGradescopeOrder(tests: TestResult[]): TestResult[] {
  if (!tests.some((t) => t.number !== undefined)) return tests;
  const keyed = tests.map((t, i) => ({ t, key: t.number ?? String(i + 1), i }));
  keyed.sort((a, b) => compareNumbers(a.key, b.key) || a.i - b.i);
  return keyed.map((k) => k.t);
}

/** What the results report beyond grade and tests, bounded. */
function extrasOf(results: GradescopeResults, tests: TestResult[]): GraderExtras {
  const extras: GraderExtras = {};
  const hidden = gradeVisibility(tests, results.visibility);
  if (hidden) extras.grade_visibility = hidden;
  if (results.output_format !== undefined) extras.output_format = truncateChars(results.output_format, MAX_FORMAT);
  if (results.execution_time !== undefined) {
    const seconds = Number(results.execution_time);
    if (Number.isFinite(seconds) && seconds >= 0) extras.execution_time = seconds;
  }
  if (results.extra_data !== undefined) extras.extra_data = results.extra_data;
  const board: LeaderboardEntry[] = [];
  for (const e of (results.leaderboard ?? []).slice(0, MAX_LEADERBOARD)) {
    if (typeof e.name !== 'string' || e.value === undefined || (typeof e.value === 'number' && !Number.isFinite(e.value))) continue;
    board.push({
      name: truncateChars(e.name, MAX_TAG),
      value: typeof e.value === 'string' ? truncateChars(e.value, 1024) : e.value,
      ...(e.order ? { order: e.order } : {}),
    });
  }
  if (board.length > 0) extras.leaderboard = board;
  return extras;
}

const ajv = new Ajv({ strict: true, allErrors: false });
const validate = ajv.compile<GradescopeResults>(loadSchema('gradescope-results'));

function problem(text: string): ParseOutcome {
  return { ok: false, problem: text };
}

function parseGradescope(output: GraderOutput): ParseOutcome {
  const file = output.resultsFile;
  if (file === null) return problem('the grader wrote no /autograder/results/results.json');
  if (file === undefined) return problem('no results.json file was provided');
  if (!Buffer.isBuffer(file)) return problem('the results.json file is not a byte buffer');
  const badMaxGrade = maxGradeProblem(output);
  if (badMaxGrade) return badMaxGrade;
  const maxGrade = output.maxGrade;

  let text = file.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (nestingExceeds(text, MAX_DEPTH)) return problem(`results.json is nested more than ${MAX_DEPTH} levels deep`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return problem(`results.json is not valid JSON (${describeError(err)})`);
  }
  if (!validate(value)) return problem(`results.json ${describeSchemaError(validate.errors ?? [], value)}`);
  const results = value;

  const given = results.tests ?? [];
  const tests: TestResult[] = [];
  let scoreSum = 0;
  let anyScore = false;
  let maxSum = 0;
  let anyMax = false;
  for (let i = 0; i < given.length; i++) {
    const t = given[i]!;
    const score = t.score ?? 0;
    const maxScore = t.max_score ?? Math.max(score, 0);
    if (t.score !== undefined) {
      anyScore = true;
      scoreSum += t.score;
    }
    if (t.max_score !== undefined) {
      anyMax = true;
      maxSum += t.max_score;
    }
    if (tests.length >= MAX_TESTS) continue;
    const status = t.status ?? (t.max_score !== undefined ? (score >= t.max_score ? 'passed' : 'failed') : 'passed');
    const rawName = typeof t.name === 'string' ? t.name.trim() : '';
    const name = truncateChars(rawName !== '' ? rawName : `Test ${t.number ?? i + 1}`, MAX_NAME);
    const test: TestResult = { name, score, max_score: maxScore, status };
    if (t.output !== undefined && t.output !== '') test.output = truncateOutput(t.output);
    const visibility = t.visibility ?? results.visibility;
    if (visibility !== undefined) test.visibility = visibility;
    if (t.tags !== undefined) test.tags = t.tags.slice(0, MAX_TAGS).map((tag) => truncateChars(tag, MAX_TAG));
    if (t.number !== undefined && String(t.number).trim() !== '') test.number = truncateChars(String(t.number).trim(), MAX_NUMBER);
    if (t.output_format !== undefined) test.output_format = truncateChars(t.output_format, MAX_FORMAT);
    if (t.extra_data !== undefined) test.extra_data = t.extra_data;
    tests.push(test);
  }

  let grade: number;
  if (results.score !== undefined) grade = results.score;
  else if (anyScore) grade = round4(scoreSum);
  else return problem('results.json has no top-level score and no test has a score');
  if (!Number.isFinite(grade)) return problem("the tests' scores in results.json add up to a non-finite number");

  let maxGradeOut: number | undefined;
  if (maxGrade !== undefined) {
    maxGradeOut = maxGrade;
  } else if (anyMax) {
    maxGradeOut = round4(maxSum);
    if (!Number.isFinite(maxGradeOut)) return problem("the tests' max_score values in results.json add up to a non-finite number");
  }

  const comments: string[] = [];
  if (given.length > MAX_TESTS) comments.push(droppedTestsComment(given.length - MAX_TESTS));
  const ordered = inGradescopeOrder(tests);
  const parsed: ParsedGrade = { success: true, grade, comments, tests: ordered, ...extrasOf(results, ordered) };
  if (maxGradeOut !== undefined) parsed.max_grade = maxGradeOut;
  if (typeof results.output === 'string' && results.output !== '') {
    parsed.feedback = { format: results.output_format === 'md' ? 'markdown' : 'text', content: results.output };
  }
  if (results.stdout_visibility !== undefined) parsed.stdout_visibility = results.stdout_visibility;
  return { ok: true, parsed };
}

/** Whether arrays/objects nest deeper than `limit` (strings skipped); linear, and cheap next to JSON.parse. */
function nestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** One phrase naming the first schema violation, e.g. `field "tests.0.visibility" must be one of visible, …`. */
function describeSchemaError(errors: ErrorObject[], data: unknown): string {
  const anyOf = errors.find((e) => e.keyword === 'anyOf');
  const err = anyOf ?? errors[0];
  if (!err) return 'does not match the schema';
  const segments = err.instancePath === '' ? [] : err.instancePath.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const where = segments.length === 0 ? 'the document' : `field "${segments.join('.').slice(0, 200)}"`;
  if (err.keyword === 'anyOf') return `${where} must be a string or a number`;
  if (err.keyword === 'enum') {
    const allowed = (err.params as { allowedValues?: unknown[] }).allowedValues ?? [];
    return `${where} must be one of ${allowed.map(String).join(', ')}`;
  }
  if (err.keyword === 'type') {
    const type = String((err.params as { type?: unknown }).type);
    const actual = valueAt(data, segments);
    if (type === 'number' && typeof actual === 'number') return `${where} is not a finite number`;
    if (segments.length === 0 && type === 'object') return 'is not a JSON object';
    return `${where} must be ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
  }
  return `${where} ${err.message ?? 'is invalid'}`;
}

function valueAt(data: unknown, segments: string[]): unknown {
  let cur = data;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, s)) return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

export const gradescopeParser: FormatParser = {
  format: 'gradescope',
  parse: total('results.json', parseGradescope),
};
