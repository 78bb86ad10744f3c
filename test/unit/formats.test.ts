import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gitlabParser } from '../../src/results/formats/gitlab';
import { gradescopeParser } from '../../src/results/formats/gradescope';
import { junitParser } from '../../src/results/formats/junit';
import { tapParser } from '../../src/results/formats/tap';
import type { FormatParser, GraderOutput, ParseOutcome, ParsedGrade } from '../../src/results/formats/types';
import { GradeResultSchema, TestResultSchema, type TestResult } from '../../src/results/result-schema';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'results');
const fixture = (format: string, name: string): Buffer => readFileSync(path.join(FIXTURES, format, name));
const fixtureNames = (format: string): string[] => readdirSync(path.join(FIXTURES, format)).sort();
const MiB = 1024 * 1024;

/** GraderOutput as the host builds it: stdout decoded (invalid UTF-8 replaced, NUL removed). */
const stdoutOf = (bytes: Buffer | string, maxGrade?: number): GraderOutput => ({
  stdout: (typeof bytes === 'string' ? bytes : bytes.toString('utf8')).replace(/\0/g, ''),
  stderr: '',
  ...(maxGrade !== undefined ? { maxGrade } : {}),
});
const fileOf = (bytes: Buffer | null, maxGrade?: number): GraderOutput => ({
  stdout: '',
  stderr: '',
  resultsFile: bytes,
  ...(maxGrade !== undefined ? { maxGrade } : {}),
});

function parsed(outcome: ParseOutcome): ParsedGrade {
  if (!outcome.ok) throw new Error(`expected ok, got problem: ${outcome.problem}`);
  return outcome.parsed;
}
function problemOf(outcome: ParseOutcome): string {
  if (outcome.ok) throw new Error(`expected a problem, got ${JSON.stringify(outcome.parsed).slice(0, 300)}`);
  return outcome.problem;
}
const brief = (tests: TestResult[]) => tests.map((t) => [t.name, t.score, t.max_score, t.status]);

// ---- soundness of any outcome -------------------------------------------------------------------------------

const ajv = new Ajv({ strict: false, allErrors: true });
const validateTest = ajv.compile(TestResultSchema);
const validateGrade = ajv.compile(GradeResultSchema);

/** What every parser promises for any input: ok with a schema-valid, finite result, or a non-empty problem. */
function expectSound(outcome: ParseOutcome): void {
  expect(outcome === null || typeof outcome !== 'object').toBe(false);
  if (!outcome.ok) {
    expect(typeof outcome.problem).toBe('string');
    expect(outcome.problem.trim().length).toBeGreaterThan(0);
    return;
  }
  const p = outcome.parsed;
  if (!validateGrade(p)) throw new Error(`parsed grade violates the schema: ${ajv.errorsText(validateGrade.errors)}`);
  expect(p.tests.length).toBeLessThanOrEqual(1000);
  for (const t of p.tests) {
    if (!validateTest(t)) throw new Error(`test violates the schema: ${ajv.errorsText(validateTest.errors)} in ${JSON.stringify(t).slice(0, 300)}`);
    expect(t.name.length).toBeGreaterThan(0);
    expect(Number.isFinite(t.score)).toBe(true);
    expect(Number.isFinite(t.max_score)).toBe(true);
    expect(t.max_score).toBeGreaterThanOrEqual(0);
    if (t.output !== undefined) expect(Buffer.byteLength(t.output)).toBeLessThanOrEqual(64 * 1024);
  }
  if (p.grade !== undefined) expect(Number.isFinite(p.grade)).toBe(true);
  if (p.max_grade !== undefined) {
    expect(Number.isFinite(p.max_grade)).toBe(true);
    expect(p.max_grade).toBeGreaterThanOrEqual(0);
  }
  if (p.success) expect(p.grade).toBeDefined();
  else expect(p.error?.length).toBeGreaterThan(0);
}

// ---- gitlab -------------------------------------------------------------------------------------------------

describe('gitlab-ag <summary> output', () => {
  it('reads the docs example and keeps the whole stdout as feedback', () => {
    const bytes = fixture('gitlab', 'docs-example.txt');
    const p = parsed(gitlabParser.parse(stdoutOf(bytes)));
    expect(p).toEqual({ success: true, grade: 30, comments: [], tests: [], feedback: { format: 'text', content: bytes.toString('utf8') } });
  });
  it('reads the brief example, with maxGrade as the maximum', () => {
    const p = parsed(gitlabParser.parse(stdoutOf(fixture('gitlab', 'brief-example.txt'), 100)));
    expect(p).toMatchObject({ success: true, grade: 87.5, max_grade: 100, tests: [] });
    expect(p.feedback?.content).toBe('whatever\n<summary>\ngrade_total = 87.5\n</summary>\nmore\n');
  });
  it('reads inline tags with CRLF, comments and max_grade', () => {
    expect(parsed(gitlabParser.parse(stdoutOf(fixture('gitlab', 'inline-crlf.txt'), 99)))).toMatchObject({ grade: 4.5, max_grade: 5 });
  });
  it('lets the last complete block win over forged earlier and unterminated later ones', () => {
    expect(parsed(gitlabParser.parse(stdoutOf(fixture('gitlab', 'forged-earlier.txt'))))).toMatchObject({ grade: 42, max_grade: 100 });
  });
  it('accepts grade_max and ignores keys in sections', () => {
    expect(parsed(gitlabParser.parse(stdoutOf(fixture('gitlab', 'sections.txt'))))).toMatchObject({ grade: 7.25, max_grade: 10 });
  });
  it.each([
    ['missing-grade-total.txt', /no grade_total/],
    ['only-in-section.txt', /no grade_total/],
    ['nan-grade.txt', /grade_total .*not a number/],
    ['infinite-grade.txt', /not a finite number/],
    ['unterminated.txt', /no complete <summary>/],
  ])('rejects %s', (name, problem) => {
    expect(problemOf(gitlabParser.parse(stdoutOf(fixture('gitlab', name))))).toMatch(problem);
  });
  it.each([
    ['<summary>\ngrade_total = true\n</summary>', /not a number/],
    ['<summary>\ngrade_total = 0x10\n</summary>', /not a number/],
    ['<summary>\ngrade_total = \n</summary>', /not a number/],
    ['<summary>\ngrade_total[] = 1\n</summary>', /not a number/],
    ['<summary>\ngrade_total = 3\nmax_grade = -1\n</summary>', /negative/],
    ['no summary at all', /no complete/],
  ])('rejects %j', (stdout, problem) => {
    expect(problemOf(gitlabParser.parse(stdoutOf(stdout)))).toMatch(problem);
  });
  it('detects a <summary> line followed by </summary>', () => {
    for (const name of ['docs-example.txt', 'brief-example.txt', 'inline-crlf.txt', 'forged-earlier.txt']) {
      expect(gitlabParser.detect!(stdoutOf(fixture('gitlab', name)))).toBe(true);
    }
    expect(gitlabParser.detect!(stdoutOf(fixture('gitlab', 'unterminated.txt')))).toBe(false);
    expect(gitlabParser.detect!(stdoutOf('</summary>\n<summary>'))).toBe(false);
    expect(gitlabParser.detect!(stdoutOf(fixture('tap', 'perl-test-more.tap')))).toBe(false);
  });
  it('handles a 4 MiB stdout quickly', () => {
    const stdout = 'student output line that is fairly long\n'.repeat((4 * MiB) / 40) + '<summary>\ngrade_total = 12.5\n</summary>\n';
    const start = Date.now();
    expect(parsed(gitlabParser.parse(stdoutOf(stdout)))).toMatchObject({ grade: 12.5 });
    expect(Date.now() - start).toBeLessThan(5000);
    expect(problemOf(gitlabParser.parse(stdoutOf(`<summary>\n[${'a.'.repeat(MiB)}]\nx=1\n</summary>`)))).toMatch(/no grade_total/);
  });
});

// ---- TAP ----------------------------------------------------------------------------------------------------

describe('TAP', () => {
  const tap = (name: string, maxGrade?: number) => tapParser.parse(stdoutOf(fixture('tap', name), maxGrade));

  it('reads real node:test output (top-level tests; subtests summarized by their parent)', () => {
    const p = parsed(tap('node-test-reporter.tap'));
    expect(brief(p.tests)).toEqual([
      ['adds numbers', 1, 1, 'passed'],
      ['fails on purpose', 0, 1, 'failed'],
      ['skipped one', 0, 1, 'skipped'],
      ['todo one', 0, 0, 'failed'],
      ['string utils', 0, 1, 'failed'],
      ['throws error', 0, 1, 'failed'],
    ]);
    expect(p).toMatchObject({ success: true, grade: 1, max_grade: 5, comments: [] });
    expect(p.tests[1]!.output).toContain('2 !== 3');
    expect(p.tests[4]!.output).toContain('failed subtests: string utils > reverses');
    expect(p.tests[5]!.output).toContain('boom: cannot read x of undefined');
  });
  it('scales to maxGrade', () => {
    expect(parsed(tap('node-test-reporter.tap', 10))).toMatchObject({ grade: 2, max_grade: 10 });
    expect(parsed(tap('perl-test-more.tap', 7))).toMatchObject({ grade: 2.8, max_grade: 7 });
    expect(parsed(tap('skip-all.tap', 7))).toMatchObject({ grade: 0, max_grade: 7 });
  });
  it('reads real Perl Test::More output, with its diagnostics', () => {
    const p = parsed(tap('perl-test-more.tap'));
    expect(brief(p.tests)).toEqual([
      ['add() adds small numbers', 1, 1, 'passed'],
      ['add() handles negatives', 0, 1, 'failed'],
      ['fact(5) is 120', 1, 1, 'passed'],
      ['test 4', 0, 1, 'skipped'],
      ['fact() is memoized', 0, 0, 'failed'],
      ['fact(0..4)', 0, 1, 'failed'],
    ]);
    expect(p).toMatchObject({ grade: 2, max_grade: 5 });
    expect(p.tests[1]!.output).toContain("got: '-5'");
    expect(p.tests[5]!.output).toContain("$expected->[4] = '25'");
    expect(p.tests[5]!.output).not.toContain('Looks like you failed');
  });
  it('reads TAP written by a bash grader', () => {
    const p = parsed(tap('bash-grader.tap'));
    expect(p).toMatchObject({ grade: 1, max_grade: 4 });
    expect(p.tests.map((t) => t.status)).toEqual(['passed', 'failed', 'failed', 'skipped']);
    expect(p.tests[2]!.output).toContain('No such file or directory');
  });
  it('ignores student prints around and between the TAP lines', () => {
    const p = parsed(tap('student-noise.tap'));
    expect(brief(p.tests)).toEqual([
      ['parses an empty list', 1, 1, 'passed'],
      ['parses one element', 1, 1, 'passed'],
      ['parses nested lists', 0, 1, 'failed'],
      ['rejects unbalanced brackets', 1, 1, 'passed'],
      ['reports the position of the error', 1, 1, 'passed'],
      ['so that was everything', 0, 0, 'error'],
    ]);
    expect(p).toMatchObject({ grade: 4, max_grade: 5 });
    expect(p.tests[2]!.output).toContain('expected [[1], 2] but got [1, 2]');
  });
  it('counts tests the plan announced but nobody reported as failed', () => {
    const p = parsed(tap('missing-tests.tap'));
    expect(brief(p.tests).slice(3)).toEqual([
      ['test 4 (missing)', 0, 1, 'failed'],
      ['test 5 (missing)', 0, 1, 'failed'],
    ]);
    expect(p).toMatchObject({ grade: 2, max_grade: 5 });
    expect(p.tests[2]!.output).toBe('# Segmentation fault (core dumped)');
  });
  it('reports a bail out as a grader failure', () => {
    const p = parsed(tap('bailout.tap'));
    expect(p).toMatchObject({ success: false, error: 'the tests bailed out: could not connect to postgres on port 5432' });
    expect(p.grade).toBeUndefined();
    expect(brief(p.tests)).toEqual([['database container started', 1, 1, 'passed']]);
  });
  it('reads TAP 14 indented and buffered subtests', () => {
    const p = parsed(tap('tap14-subtests.tap'));
    expect(brief(p.tests)).toEqual([
      ['arithmetic', 0, 1, 'failed'],
      ['strings', 1, 1, 'passed'],
      ['optional extension', 0, 1, 'skipped'],
    ]);
    expect(p.tests[0]!.output).toBe('failed subtests: arithmetic > divides by zero safely');
  });
  it('reads TAP without a plan, TODO tests not counting', () => {
    expect(brief(parsed(tap('no-plan.tap')).tests)).toEqual([
      ['first', 1, 1, 'passed'],
      ['second', 0, 1, 'failed'],
      ['third', 0, 0, 'passed'],
    ]);
    expect(parsed(tap('no-plan.tap'))).toMatchObject({ grade: 1, max_grade: 2 });
  });
  it('accepts a skip-all plan', () => {
    expect(parsed(tap('skip-all.tap'))).toEqual({
      success: true, grade: 0, max_grade: 0, tests: [], comments: ['all tests were skipped: no tests for this exercise yet'],
    });
  });
  it('starts at the version line, and neither counts duplicate nor out-of-plan test points', () => {
    const p = parsed(tap('forged-before-version.tap'));
    expect(brief(p.tests)).toEqual([
      ['real test one', 1, 1, 'passed'],
      ['real test two', 0, 1, 'failed'],
      ['duplicate number', 0, 0, 'error'],
      ['out of plan', 0, 0, 'error'],
      ['test 3 (missing)', 0, 1, 'failed'],
    ]);
    expect(p).toMatchObject({ grade: 1, max_grade: 3 });
  });
  it('survives YAML alias bombs and cycles in diagnostics', () => {
    expect(parsed(tap('yaml-alias-bomb.tap'))).toMatchObject({ grade: 1, max_grade: 2 });
    const cyclic = 'TAP version 13\nnot ok 1 - cyc\n  ---\n  cyc: &c [1, *c]\n  m: &m {a: 1}\n  n: *m\n  ...\n1..1\n';
    const p = parsed(tapParser.parse(stdoutOf(cyclic)));
    expect(p.tests[0]!.output).toContain('cyc:');
    expect(p.tests[0]!.output!.length).toBeLessThan(2000);
  });
  it('says when there is no TAP', () => {
    expect(problemOf(tap('not-tap.txt'))).toBe('no TAP test lines');
    expect(problemOf(tapParser.parse(stdoutOf('')))).toBe('no TAP test lines');
    expect(problemOf(tapParser.parse(stdoutOf('TAP version 14\n')))).toBe('no TAP test lines');
  });
  it('detects TAP only with a version or plan line and a test point', () => {
    for (const name of ['node-test-reporter.tap', 'perl-test-more.tap', 'bash-grader.tap', 'student-noise.tap', 'missing-tests.tap', 'bailout.tap', 'tap14-subtests.tap']) {
      expect(tapParser.detect!(stdoutOf(fixture('tap', name))), name).toBe(true);
    }
    for (const name of ['no-plan.tap', 'skip-all.tap', 'not-tap.txt']) expect(tapParser.detect!(stdoutOf(fixture('tap', name))), name).toBe(false);
    expect(tapParser.detect!(stdoutOf(fixture('gitlab', 'docs-example.txt')))).toBe(false);
    expect(tapParser.detect!(stdoutOf('{"success": true, "grade": 1}'))).toBe(false);
    expect(tapParser.detect!(stdoutOf('  1..2\n  ok 1\n'))).toBe(false);
    expect(tapParser.detect!(stdoutOf('1..2\r\nok 1\r\n'))).toBe(true);
  });
  it('keeps the first 1000 of many tests, counting all, quickly', () => {
    const n = 150_000;
    const lines = ['TAP version 13', `1..${n}`];
    for (let i = 1; i <= n; i++) lines.push(`${i % 4 === 0 ? 'not ok' : 'ok'} ${i} - test number ${i}`);
    const start = Date.now();
    const p = parsed(tapParser.parse(stdoutOf(lines.join('\n'))));
    expect(Date.now() - start).toBeLessThan(8000);
    expect(p.tests).toHaveLength(1000);
    expect(p).toMatchObject({ grade: n - n / 4, max_grade: n, comments: [`${n - 1000} more tests were dropped: only the first 1000 are listed`] });
  });
  it('stays linear on pathological input', () => {
    const cases = [
      ' '.repeat(4 * MiB) + 'x\nok 1\n1..1\n', // deep indentation = nested child parsers
      'TAP version 14\n' + Array.from({ length: 1400 }, (_, d) => ' '.repeat(4 * d) + '# Subtest: x').join('\n') + '\nok 1\n1..1\n',
      'TAP version 13\nnot ok 1 - x\n  ---\n' + Array.from({ length: 100_000 }, (_, i) => `  k${i}: v`).join('\n') + '\n  ...\n1..1\n',
      'ok 1 - ' + 'a'.repeat(4 * MiB) + '\n1..1\n',
      '1..999999\nok 1\n',
      `1..${'9'.repeat(400)}\nok 1\n`,
    ];
    for (const stdout of cases) {
      const start = Date.now();
      expectSound(tapParser.parse(stdoutOf(stdout)));
      expect(Date.now() - start).toBeLessThan(5000);
    }
  });
});

// ---- JUnit --------------------------------------------------------------------------------------------------

describe('JUnit XML', () => {
  const junit = (name: string, maxGrade?: number) => junitParser.parse(fileOf(fixture('junit', name), maxGrade));
  const pytestTests = [
    ['test_hw.test_add_small', 2, 2, 'passed'],
    ['test_hw.test_add_negative', 0, 3, 'failed'],
    ['test_hw.test_uses_fixture', 0, 1, 'error'],
    ['test_hw.test_bonus', 0, 1, 'skipped'], // record_property never ran: the test was skipped
    ['test_hw.test_prints', 0.5, 0.5, 'passed'],
    ['test_hw.test_xfail', 0, 1, 'skipped'],
    ['test_hw.TestStrings.test_upper', 1, 1, 'passed'],
    ['test_hw.TestStrings.test_reverse[ab-ba]', 1, 1, 'passed'],
    ['test_hw.TestStrings.test_reverse[\\xe9-\\xe9]', 1, 1, 'passed'],
    ['test_hw.TestStrings.test_reverse[<x>->x<]', 1, 1, 'passed'],
  ];

  it('reads real pytest --junitxml output (xunit2) with record_property weights', () => {
    const p = parsed(junit('pytest-xunit2.xml'));
    expect(brief(p.tests)).toEqual(pytestTests);
    expect(p).toMatchObject({ success: true, grade: 6.5, max_grade: 12.5, comments: [] });
    expect(p.tests[1]!.output).toContain('AssertionError: add(-1, -2) should be -3 < 0 & "negative"\nassert -3 == -4');
    expect(p.tests[2]!.output).toContain('failed on setup with "RuntimeError: fixture could not open data.csv"');
    expect(p.tests[3]!.output).toContain('bonus question not attempted');
  });
  it('reads real pytest xunit1 output with captured stdout', () => {
    const p = parsed(junit('pytest-xunit1-logging.xml'));
    expect(brief(p.tests)).toEqual(pytestTests);
    expect(p.tests[4]!.output).toContain('[system-out]');
    expect(p.tests[4]!.output).toContain('debug: computing fib(10)');
  });
  it('scales to maxGrade', () => {
    expect(parsed(junit('pytest-xunit2.xml', 100))).toMatchObject({ grade: 52, max_grade: 100 });
    expect(parsed(junit('gradle-nested.xml', 20))).toMatchObject({ grade: 12.5, max_grade: 20 });
    expect(parsed(junit('TEST-com.example.CalculatorTest.xml', 3))).toMatchObject({ grade: 1.2, max_grade: 3 });
  });
  it('reads a Maven Surefire report (suite properties are not weights)', () => {
    const p = parsed(junit('TEST-com.example.CalculatorTest.xml'));
    expect(brief(p.tests)).toEqual([
      ['com.example.CalculatorTest.addsTwoNumbers', 1, 1, 'passed'],
      ['com.example.CalculatorTest.dividesEvenly', 0, 1, 'failed'],
      ['com.example.CalculatorTest.handlesNull', 0, 1, 'error'],
      ['com.example.CalculatorTest.bigIntegers', 0, 1, 'skipped'],
      ['com.example.CalculatorTest.flakyNetwork', 1, 1, 'passed'],
    ]);
    expect(p).toMatchObject({ grade: 2, max_grade: 5 });
    expect(p.tests[1]!.output).toMatch(/^expected: <2> but was: <3>\norg\.opentest4j\.AssertionFailedError/);
    expect(p.tests[1]!.output).toContain('[system-out]\ndividing 6 by 3');
  });
  it('reads jest-junit output (classname equal to name, several failures, a suite that failed to run)', () => {
    const p = parsed(junit('jest-junit.xml'));
    expect(brief(p.tests)).toEqual([
      ['math adds 1 + 2 to equal 3', 1, 1, 'passed'],
      ['math subtracts', 0, 1, 'failed'],
      ['math multiplies', 0, 1, 'skipped'],
      ['math › nested divides', 1, 1, 'passed'],
      ['Test suite failed to run.src/broken.test.js', 0, 1, 'error'],
    ]);
    expect(p.tests[1]!.output).toContain('Received: 2');
    expect(p.tests[1]!.output).toContain('a second assertion failed');
  });
  it('reads nested testsuites, weights from max_score, weight and points (text value too)', () => {
    const p = parsed(junit('gradle-nested.xml'));
    expect(brief(p.tests)).toEqual([
      ['lab3.ListTest.appendKeepsOrder()', 2.5, 2.5, 'passed'],
      ['lab3.ListTest.removeShrinks()', 1.5, 1.5, 'passed'],
      ['getMissing()', 0, 3, 'failed'],
      ['lab3.MapTest', 1, 1, 'passed'],
    ]);
    expect(p).toMatchObject({ grade: 5, max_grade: 8 });
  });
  it('never expands DOCTYPE entities (billion laughs stays small)', () => {
    const p = parsed(junit('billion-laughs.xml'));
    expect(brief(p.tests)).toEqual([['bomb.&lol9;', 0, 1, 'failed']]);
    expect(p.tests[0]!.output).toBe('&lol9;');
  });
  it('strips a BOM and replaces invalid UTF-8', () => {
    expect(brief(parsed(junit('bom.xml')).tests)).toEqual([['one', 1, 1, 'passed']]);
    const p = parsed(junit('latin1-bytes.xml'));
    expect(p.tests[0]!.name).toBe('caf\uFFFD.cr\uFFFDme br\uFFFDl\uFFFDe');
    expect(p).toMatchObject({ grade: 1, max_grade: 2 });
  });
  it.each([
    ['truncated.xml', /^the JUnit XML does not parse: it ends before these elements are closed: testsuites, testsuite, testcase$/],
    ['bad-weight.xml', /testcase "a" has a max_score property that is not a number/],
    ['infinite-weight.xml', /not a finite number/],
    ['no-testcases.xml', /^the JUnit XML has no <testcase>$/],
    ['wrong-root.xml', /root is <html>/],
  ])('rejects %s', (name, problem) => {
    expect(problemOf(junit(name))).toMatch(problem);
  });
  it.each([
    [null, 'the grader wrote no JUnit XML file'],
    [undefined, 'no JUnit XML results file was provided'],
    [Buffer.from(''), 'the JUnit XML file is empty'],
    [Buffer.from('not xml'), /^the JUnit XML does not parse: /],
    [Buffer.from('<testsuite><testcase name="a"></testsuite>'), /^the JUnit XML does not parse: /],
    [Buffer.from('<testsuite><testcase name="a"><properties><property name="points" value="-2"/></properties></testcase></testsuite>'), /negative points/],
    [Buffer.from('<a>'.repeat(200_000) + '</a>'.repeat(200_000)), /nested more than 100 elements deep/],
  ])('rejects %#', (file, problem) => {
    const outcome = junitParser.parse({ stdout: '', stderr: '', ...(file === undefined ? {} : { resultsFile: file }) });
    expect(problemOf(outcome)).toMatch(problem);
  });
  it('truncates long names and outputs', () => {
    const xml = `<testsuite><testcase classname="c" name="${'n'.repeat(5000)}"><failure message="m">${'é'.repeat(100_000)}</failure><system-out>${'o'.repeat(100_000)}</system-out></testcase></testsuite>`;
    const t = parsed(junitParser.parse(fileOf(Buffer.from(xml)))).tests[0]!;
    expect(t.name).toHaveLength(1024);
    expect(Buffer.byteLength(t.output!)).toBeLessThanOrEqual(64 * 1024);
    expect(t.output).toMatch(/… \(truncated\)$/);
  });
  it('handles a 4 MiB report quickly, keeping 1000 tests', () => {
    const n = 40_000;
    const cases = Array.from({ length: n }, (_, i) => `<testcase classname="pkg.Suite" name="test_${i}" time="0.001">${i % 2 ? '<failure message="boom">trace line\n  more trace</failure>' : ''}</testcase>`);
    const xml = Buffer.from(`<?xml version="1.0"?><testsuites><testsuite name="s">${cases.join('\n')}</testsuite></testsuites>`);
    expect(xml.length).toBeGreaterThan(3 * MiB);
    const start = Date.now();
    const p = parsed(junitParser.parse(fileOf(xml)));
    expect(Date.now() - start).toBeLessThan(8000);
    expect(p.tests).toHaveLength(1000);
    expect(p).toMatchObject({ grade: n / 2, max_grade: n, comments: [`${n - 1000} more tests were dropped: only the first 1000 are listed`] });
  });
});

// ---- Gradescope ---------------------------------------------------------------------------------------------

describe('Gradescope results.json', () => {
  const gs = (name: string, maxGrade?: number) => gradescopeParser.parse(fileOf(fixture('gradescope', name), maxGrade));

  it('reads the example of the Gradescope docs: the top-level score wins, the top-level visibility fills in, extras kept', () => {
    const p = parsed(gs('gradescope-docs.json'));
    expect(p).toMatchObject({ success: true, grade: 44, max_grade: 10, stdout_visibility: 'visible', comments: [] });
    expect(p.feedback).toEqual({ format: 'text', content: 'Text relevant to the entire submission' });
    expect(p.tests).toEqual([
      {
        name: 'Your name here', score: 2, max_score: 2, status: 'passed', visibility: 'visible', tags: ['tag1', 'tag2', 'tag3'], number: '1.1',
        output_format: 'text', extra_data: {}, output: 'Giant multiline string that will be placed in a <pre> tag and collapsed by default',
      },
      { name: 'Edge cases', score: 0, max_score: 3, status: 'failed', visibility: 'after_due_date', number: '1.2', output: 'Expected [] but got None' },
      // No visibility of its own: the results' top-level "after_due_date", as Gradescope applies it.
      { name: 'Test 2', score: 5, max_score: 5, status: 'passed', number: '2', visibility: 'after_due_date' },
      { name: 'Style check', score: 0, max_score: 0, status: 'failed', visibility: 'hidden', output: 'line 3: missing docstring' },
    ]);
    // A hidden test hides the total in Gradescope: the platform is told.
    expect(p).toMatchObject({
      grade_visibility: 'hidden',
      output_format: 'simple_format',
      execution_time: 136,
      extra_data: {},
      leaderboard: [{ name: 'Accuracy', value: 0.926 }, { name: 'Time', value: 15.1, order: 'asc' }, { name: 'Stars', value: '*****' }],
    });
  });
  it("reads gradescope-utils' JSONTestRunner output: execution_time as a string, tests in the order of their numbers", () => {
    // As gradescope-utils 0.5.0's json_test_runner.py writes it (format(timeTaken, "0.2f"); number only when set).
    const file = {
      tests: [
        { name: 'Evaluate (1 + 1) * 4', score: 0.0, max_score: 2, status: 'failed', output: 'Test Failed: 7 != 8\n', visibility: 'after_due_date', number: '2.1' },
        { name: 'Check submitted files', score: 0, max_score: 0, status: 'passed', output: 'All required files submitted!\n' },
        { name: 'Evaluate 1 + 1', score: 1, max_score: 1, status: 'passed', number: '1.10' },
        { name: 'Evaluate 2 - 1', score: 1, max_score: 1, status: 'passed', number: '1.9' },
      ],
      leaderboard: [{ name: 'high score', value: 7, order: 'desc' }],
      visibility: 'visible',
      execution_time: '0.12',
      score: 2.0,
    };
    const p = parsed(gradescopeParser.parse(fileOf(Buffer.from(JSON.stringify(file)))));
    expect(p.tests.map((t) => [t.number, t.visibility])).toEqual([
      ['1.9', 'visible'],
      ['1.10', 'visible'],
      // Unnumbered, second in the file: Gradescope numbers it 2.
      [undefined, 'visible'],
      ['2.1', 'after_due_date'],
    ]);
    expect(p).toMatchObject({ grade: 2, max_grade: 4, execution_time: 0.12, grade_visibility: 'after_due_date', leaderboard: [{ name: 'high score', value: 7, order: 'desc' }] });
    // The assignment's max grade is the total, as Gradescope takes it from the assignment.
    expect(parsed(gradescopeParser.parse(fileOf(Buffer.from(JSON.stringify(file)), 20))).max_grade).toBe(20);
    // Everything visible: nothing to hide.
    const open = { ...file, tests: file.tests.map((t) => ({ ...t, visibility: 'visible' })) };
    expect(parsed(gradescopeParser.parse(fileOf(Buffer.from(JSON.stringify(open))))).grade_visibility).toBeUndefined();
    expect(problemOf(gradescopeParser.parse(fileOf(Buffer.from(JSON.stringify({ ...file, execution_time: 'soon' })))))).toMatch(/execution_time" must be a string or a number/);
  });
  it('reads Otter-Grader output: the sum of the tests, a score-less summary test', () => {
    const p = parsed(gs('otter.json', 50));
    expect(brief(p.tests)).toEqual([
      ['Public Tests', 0, 0, 'failed'],
      ['q1', 1, 1, 'passed'],
      ['q2', 0.5, 2, 'failed'],
      ['q3', 3, 3, 'passed'],
    ]);
    // The assignment's max grade (50) is the total, not the tests' sum (6): Gradescope's total is the assignment's.
    expect(p).toMatchObject({ grade: 4.5, max_grade: 50, stdout_visibility: 'after_published', grade_visibility: 'hidden' });
    expect(p.tests[2]!.visibility).toBe('hidden');
    expect(p.tests[0]!.output).toContain('❌ Test case failed');
    expect(parsed(gs('otter-points-possible.json'))).toMatchObject({ grade: 7.5, max_grade: 6 });
  });
  it('reads an Otter catastrophic failure (no test scores, top-level score 0)', () => {
    const p = parsed(gs('otter-catastrophic.json', 10));
    expect(brief(p.tests)).toEqual([
      ['Autograder Failed', 0, 0, 'failed'],
      ['Autograder Exception', 0, 0, 'failed'],
    ]);
    expect(p).toMatchObject({ success: true, grade: 0, max_grade: 10 });
  });
  it('sums test scores (rounded) and passes markdown feedback through', () => {
    const p = parsed(gs('tests-only-markdown.json'));
    expect(p).toMatchObject({ grade: 0.3, max_grade: 1 });
    expect(p.feedback).toEqual({ format: 'markdown', content: '## Summary\n\n* part a ✔\n* part b ✔\n* part c ✘' });
  });
  it('strips a BOM and replaces invalid UTF-8', () => {
    expect(parsed(gs('bom.json'))).toEqual({ success: true, grade: 3, comments: [], tests: [] });
    expect(parsed(gs('latin1-bytes.json')).tests[0]!.name).toBe('caf\uFFFD');
  });
  it.each([
    ['truncated.json', /^results\.json is not valid JSON \(/],
    ['nan-score.json', /^results\.json is not valid JSON \(/],
    ['infinite-score.json', /^results\.json field "score" is not a finite number$/],
    ['infinite-test-score.json', /^results\.json field "tests\.0\.score" is not a finite number$/],
    ['overflowing-sum.json', /non-finite/],
    ['bad-visibility.json', /^results\.json field "tests\.0\.visibility" must be one of visible, hidden, after_due_date, after_published$/],
    ['bad-status.json', /field "tests\.0\.status" must be one of passed, failed/],
    ['string-score.json', /field "tests\.0\.score" must be a number/],
    ['no-score.json', /^results\.json has no top-level score and no test has a score$/],
    ['not-an-object.json', /^results\.json is not a JSON object$/],
  ])('rejects %s', (name, problem) => {
    expect(problemOf(gs(name))).toMatch(problem);
  });
  it.each([
    [null, 'the grader wrote no /autograder/results/results.json'],
    [Buffer.from(''), /not valid JSON/],
    [Buffer.from('{"tests": [{"max_score": -1, "score": 0}]}'), /max_score" must be >= 0/],
    [Buffer.from('{"tests": [{"number": true, "score": 1}]}'), /"tests\.0\.number" must be a string or a number/],
    [Buffer.from('{"score": 1, "extra_data": ' + '['.repeat(300_000) + ']'.repeat(300_000) + '}'), /nested more than 256 levels deep/],
  ])('rejects %#', (file, problem) => {
    expect(problemOf(gradescopeParser.parse(fileOf(file)))).toMatch(problem);
  });
  it('applies the defaults for name, max_score and status', () => {
    const json = { tests: [{ score: 2 }, { score: -1, number: '3.1' }, { score: 1, max_score: 2 }, { score: 2, max_score: 2, status: 'failed' }, { score: 1, name: '   ' }] };
    expect(brief(parsed(gradescopeParser.parse(fileOf(Buffer.from(JSON.stringify(json))))).tests)).toEqual([
      ['Test 1', 2, 2, 'passed'],
      ['Test 3', 1, 2, 'failed'],
      ['Test 3.1', -1, 0, 'passed'],
      ['Test 4', 2, 2, 'failed'],
      ['Test 5', 1, 1, 'passed'],
    ]);
  });
  it('truncates names, tags and outputs, and keeps 1000 tests of a huge file', () => {
    const many = Array.from({ length: 30_000 }, (_, i) => ({ name: `t${i}`, score: 1, max_score: 2, output: 'x'.repeat(100) }));
    many[0] = { name: 'n'.repeat(3000) + '😀', score: 1, max_score: 2, output: 'o'.repeat(3 * MiB) };
    (many[0] as Record<string, unknown>).tags = Array.from({ length: 100 }, () => 't'.repeat(300));
    const file = Buffer.from(JSON.stringify({ tests: many }));
    const start = Date.now();
    const p = parsed(gradescopeParser.parse(fileOf(file)));
    expect(Date.now() - start).toBeLessThan(5000);
    expect(p).toMatchObject({ grade: 30_000, max_grade: 60_000, comments: ['29000 more tests were dropped: only the first 1000 are listed'] });
    expect(p.tests).toHaveLength(1000);
    expect(p.tests[0]!.name).toHaveLength(1024);
    expect(p.tests[0]!.tags).toHaveLength(64);
    expect(p.tests[0]!.tags![0]).toHaveLength(256);
    expect(Buffer.byteLength(p.tests[0]!.output!)).toBeLessThanOrEqual(64 * 1024);
  });
  it('never cuts a surrogate pair in half when truncating a name', () => {
    const name = 'a'.repeat(1023) + '😀';
    const t = parsed(gradescopeParser.parse(fileOf(Buffer.from(JSON.stringify({ tests: [{ name, score: 1 }] }))))).tests[0]!;
    expect(t.name).toBe('a'.repeat(1023));
  });
});

// ---- properties ---------------------------------------------------------------------------------------------

const RUNS = { numRuns: 200 };
const STDOUT_PARSERS: [string, FormatParser][] = [['gitlab', gitlabParser], ['tap', tapParser]];
const FILE_PARSERS: [string, FormatParser][] = [['junit', junitParser], ['gradescope', gradescopeParser]];
const ALL_PARSERS = [...STDOUT_PARSERS, ...FILE_PARSERS];
const round4 = (x: number) => Math.round(x * 1e4) / 1e4 || 0;

/** Text made of fragments that matter to the formats, so random inputs reach deep into the parsers. */
const FRAGMENTS = [
  '<summary>', '</summary>', 'grade_total = ', 'max_grade=', 'grade_max = ', '[s]', '; c', '# c', '=', '"', '\\',
  'TAP version 13', 'TAP version 14', '1..', '1..3', '1..0 # SKIP x', 'ok', 'not ok', ' 1', ' 2', ' 7', ' - name', ' # SKIP', ' # TODO',
  '  ---', '  ...', '  message: x', '  a: &a [1, *a]', '    ', '# Subtest: s', '{', '}', 'Bail out!', 'pragma +strict',
  '<?xml version="1.0"?>', '<testsuites>', '</testsuites>', '<testsuite>', '</testsuite>', '<testcase name="a" classname="b">',
  '<testcase/>', '</testcase>', '<failure message="m">', '</failure>', '<error/>', '<skipped/>', '<system-out>', '</system-out>',
  '<properties><property name="max_score" value="2"/></properties>', '<property name="weight" value="1e999"/>', '<![CDATA[x]]>',
  '<!DOCTYPE d [<!ENTITY e "&e;&e;">]>', '&e;', '&lt;', '&#0;', '&#x1F600;', '<!--', '-->',
  '{"score": ', '"tests": [', '{"name": "t", "score": 1, "max_score": 2}', ']', '}', ',', 'null', '1e999', '-0', 'NaN',
  '"visibility": "hidden"', '"status": "failed"', '"output": "x"', '"tags": ["a"]', '"number": "1.1"',
  '0', '1', '2.5', '-3', '\n', '\r\n', '\r', '\u2028', '\0', '\uFEFF', 'é', '😀', '\uD800', '\uDC00', 'x', ' ',
];
const fragmentText = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 80 }).map((parts) => parts.join(''));
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes).toString('utf8')),
  fragmentText,
);
const anyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes)),
  anyText.map((s) => Buffer.from(s, 'utf8')),
  fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s, 'utf16le')),
);
const maxGrade = fc.option(fc.oneof(fc.constantFrom(0, 1, 10, 100), fc.double({ min: 0, max: 1e6, noNaN: true })), { nil: undefined });

function mutate(bytes: Buffer, ops: { kind: 'cut' | 'flip' | 'insert'; at: number; byte: number; insert: Uint8Array }[]): Buffer {
  let b = Buffer.from(bytes);
  for (const op of ops) {
    const at = b.length === 0 ? 0 : op.at % (b.length + 1);
    if (op.kind === 'cut') b = b.subarray(0, at);
    else if (op.kind === 'flip' && at < b.length) b[at] = op.byte;
    else b = Buffer.concat([b.subarray(0, at), Buffer.from(op.insert), b.subarray(at)]);
  }
  return b;
}
const mutations = fc.array(
  fc.record({
    kind: fc.constantFrom('cut' as const, 'flip' as const, 'insert' as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
    insert: fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.constantFrom(...FRAGMENTS).map((f) => new Uint8Array(Buffer.from(f)))),
  }),
  { minLength: 1, maxLength: 5 },
);

describe('every parser is total and sound', () => {
  it.each(ALL_PARSERS)('%s: arbitrary text and bytes', (format, parser) => {
    fc.assert(
      fc.property(anyText, anyBytes, maxGrade, (text, bytes, max) => {
        const output: GraderOutput = { stdout: text, stderr: '', resultsFile: bytes, ...(max !== undefined ? { maxGrade: max } : {}) };
        expectSound(parser.parse(output));
        expect(typeof (parser.detect?.(output) ?? false)).toBe('boolean');
      }),
      RUNS,
    );
  });

  it.each(ALL_PARSERS)('%s: mutated corpus files', (format, parser) => {
    const files = fixtureNames(format).map((name) => fixture(format, name));
    fc.assert(
      fc.property(fc.constantFrom(...files), mutations, maxGrade, (file, ops, max) => {
        const bytes = mutate(file, ops);
        const isFile = FILE_PARSERS.some(([f]) => f === format);
        const outcome = parser.parse(isFile ? fileOf(bytes, max) : stdoutOf(bytes, max));
        expectSound(outcome);
      }),
      RUNS,
    );
  });

  it('gradescope: arbitrary JSON values and results-shaped objects', () => {
    const loose = fc.oneof(fc.double(), fc.integer(), fc.string({ maxLength: 5 }), fc.constant(null), fc.boolean(), fc.constant(1e300));
    const test = fc.record(
      {
        score: loose, max_score: loose, name: fc.oneof(fc.string({ unit: 'binary', maxLength: 1100 }), loose),
        status: fc.constantFrom('passed', 'failed', 'error'), number: loose, output: fc.oneof(fc.string(), loose),
        visibility: fc.constantFrom('visible', 'hidden', 'after_due_date', 'after_published', 'public'),
        tags: fc.array(fc.oneof(fc.string({ maxLength: 300 }), loose), { maxLength: 70 }), extra_data: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const results = fc.record(
      {
        score: loose, output: fc.oneof(fc.string(), loose), output_format: fc.constantFrom('md', 'text', 'html', 7),
        stdout_visibility: fc.constantFrom('visible', 'hidden', 'nope'), tests: fc.oneof(fc.array(test, { maxLength: 8 }), loose),
        leaderboard: fc.jsonValue(), extra_data: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), results), fc.boolean(), maxGrade, (value, overflow, max) => {
        let json = JSON.stringify(value) ?? 'null';
        if (overflow) json = json.replace(/\b1e\+300\b/g, '1e999');
        expectSound(gradescopeParser.parse(fileOf(Buffer.from(json), max)));
      }),
      RUNS,
    );
  });
});

// Generated valid inputs: the parsed grade is the expected sum.

type Outcome = 'pass' | 'fail' | 'skip' | 'todo-pass' | 'todo-fail';
const safeName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 _().,-]{0,24}$/).map((s) => s.trim() || 'x');
const noise = fc.stringMatching(/^[A-Za-z][a-z ]{0,20}$/).filter((s) => !/^(ok|not|bail|pragma|tap)/i.test(s));

describe('generated valid inputs give the expected grade', () => {
  it('TAP', () => {
    const item = fc.record({ outcome: fc.constantFrom<Outcome>('pass', 'fail', 'skip', 'todo-pass', 'todo-fail'), name: safeName, noise: fc.option(noise, { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 40 }), fc.nat({ max: 5 }), fc.boolean(), maxGrade, (items, missing, planFirst, max) => {
        const total = items.length + missing;
        const lines = ['Student says hi', 'TAP version 13'];
        if (planFirst) lines.push(`1..${total}`);
        items.forEach((it, i) => {
          const directive = it.outcome === 'skip' ? ' # SKIP not today' : it.outcome.startsWith('todo') ? ' # TODO later' : '';
          const ok = it.outcome === 'pass' || it.outcome === 'skip' || it.outcome === 'todo-pass';
          lines.push(`${ok ? 'ok' : 'not ok'} ${i + 1} - ${it.name}${directive}`);
          if (it.noise !== undefined) lines.push(it.noise);
        });
        if (!planFirst) lines.push(`1..${total}`);
        const outcome = tapParser.parse(stdoutOf(lines.join('\n') + '\n', max));
        expectSound(outcome);
        if (total === 0) return; // `1..0`: a skip-all plan
        const p = parsed(outcome);
        const score = items.filter((it) => it.outcome === 'pass').length;
        const possible = items.filter((it) => !it.outcome.startsWith('todo')).length + missing;
        expect(p.tests).toHaveLength(total);
        expect(p.tests.slice(0, items.length).map((t) => t.name)).toEqual(items.map((it) => it.name));
        if (max === undefined) expect(p).toMatchObject({ grade: score, max_grade: possible });
        else expect(p).toMatchObject({ grade: possible === 0 ? 0 : round4((score / possible) * max), max_grade: max });
      }),
      RUNS,
    );
  });

  it('JUnit XML', () => {
    const item = fc.record({
      status: fc.constantFrom('passed', 'failed', 'error', 'skipped'),
      name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
      weight: fc.option(fc.integer({ min: 0, max: 1000 }).map((n) => n / 100), { nil: undefined }),
      property: fc.constantFrom('max_score', 'weight', 'points'),
    });
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 30 }), fc.boolean(), maxGrade, (items, nested, max) => {
        const cases = items.map((it, i) => {
          const props = it.weight === undefined ? '' : `<properties><property name="${it.property}" value="${it.weight}"/></properties>`;
          const body = it.status === 'failed' ? '<failure message="no">trace</failure>' : it.status === 'error' ? '<error message="boom"/>' : it.status === 'skipped' ? '<skipped/>' : '';
          return `<testcase classname="suite${i % 3}" name="${esc(it.name)}" time="0.01">${props}${body}</testcase>`;
        });
        const suites = nested
          ? `<testsuites><testsuite name="outer"><testsuite name="a">${cases.slice(0, 5).join('')}</testsuite><testsuite name="b"><testsuite name="c">${cases.slice(5).join('\n')}</testsuite></testsuite></testsuite></testsuites>`
          : `<testsuite name="only">\n${cases.join('\n')}\n</testsuite>`;
        const outcome = junitParser.parse(fileOf(Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${suites}`), max));
        expectSound(outcome);
        const p = parsed(outcome);
        let score = 0;
        let possible = 0;
        for (const it of items) {
          const w = it.weight ?? 1;
          possible += w;
          if (it.status === 'passed') score += w;
        }
        expect(p.tests.map((t) => t.status)).toEqual(items.map((it) => it.status));
        if (max === undefined) expect(p).toMatchObject({ grade: round4(score), max_grade: round4(possible) });
        else expect(p).toMatchObject({ grade: possible === 0 ? 0 : round4((score / possible) * max), max_grade: max });
      }),
      RUNS,
    );
  });

  it('Gradescope results.json', () => {
    const cents = fc.integer({ min: -500, max: 5000 }).map((n) => n / 100);
    const test = fc.record({ score: fc.option(cents, { nil: undefined }), max_score: fc.option(cents.map(Math.abs), { nil: undefined }), name: fc.option(safeName, { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(test, { maxLength: 30 }), fc.option(cents, { nil: undefined }), maxGrade, (tests, top, max) => {
        const outcome = gradescopeParser.parse(fileOf(Buffer.from(JSON.stringify({ score: top, tests })), max));
        expectSound(outcome);
        const scored = tests.filter((t) => t.score !== undefined);
        if (top === undefined && scored.length === 0) {
          expect(problemOf(outcome)).toMatch(/no top-level score/);
          return;
        }
        const p = parsed(outcome);
        let sum = 0;
        for (const t of scored) sum += t.score!;
        expect(p.grade).toBe(top ?? round4(sum));
        const maxed = tests.filter((t) => t.max_score !== undefined);
        let maxSum = 0;
        for (const t of maxed) maxSum += t.max_score!;
        expect(p.max_grade).toBe(max ?? (maxed.length > 0 ? round4(maxSum) : undefined));
        expect(p.tests.map((t) => t.name)).toEqual(tests.map((t, i) => t.name ?? `Test ${i + 1}`));
      }),
      RUNS,
    );
  });
});
