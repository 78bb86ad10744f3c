import { describe, expect, it } from 'vitest';
import { extractResponseText, parseCorrectomatic } from '../../src/results/formats/correctomatic';
import { parseGradingFields, resolveGrading } from '../../src/api/grading-settings';
import { detectFormat } from '../../src/results/formats';
import { interpretOutcome, type ContainerOutcome } from '../../src/results/interpret';
import { FRAME_BEGIN, FRAME_END, splitResultsFrame } from '../../src/results/results-frame';
import { validateGradeResult } from '../../src/results/schemas';

const empty = { text: '', bytes: 0, truncated: false };
const outcome = (o: Partial<ContainerOutcome>): ContainerOutcome => ({
  exitCode: 0, timedOut: false, oomKilled: false, outputLimitExceeded: false, timeLimitSeconds: 10, memoryMb: 64,
  outputLimitBytes: 1000, stdoutText: '', stderrText: '', stdout: empty, stderr: empty, ...o,
});

describe('correctomatic responses', () => {
  it('takes the whole stdout when there are no markers', () => {
    expect(parseCorrectomatic('  {"success": true, "grade": 2}\n')).toEqual({ ok: true, response: { success: true, grade: 2 } });
  });
  it('takes the last complete block, ignoring an unterminated one after it', () => {
    const out = 'x\n--BEGIN CORRECTOMATIC RESPONSE--\n{"success":true,"grade":1}\n--END CORRECTOMATIC RESPONSE--\n--BEGIN CORRECTOMATIC RESPONSE--\n{"success":true,"grade":9}\n--END CORRECTOMATIC RESPONSE--\n--BEGIN CORRECTOMATIC RESPONSE--\n{"grade":5';
    expect(parseCorrectomatic(out)).toEqual({ ok: true, response: { success: true, grade: 9 } });
  });
  it('accepts CRLF marker lines', () => {
    expect(extractResponseText('a\r\n--BEGIN CORRECTOMATIC RESPONSE--\r\n{"success":true,"grade":1}\r\n--END CORRECTOMATIC RESPONSE--\r\n')).toBe('{"success":true,"grade":1}');
  });
  it.each([
    ['', /no response/],
    ['not json', /not valid JSON/],
    ['{"grade": 3}', /success/],
    ['{"success": true}', /grade.*comments/],
    ['{"success": false}', /error/],
    ['{"success": true, "grade": "7"}', /grade/],
    ['[1,2]', /object|type/],
  ])('rejects %j with a clear problem', (text, problem) => {
    const r = parseCorrectomatic(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatch(problem);
  });
});

describe('interpreting a finished container', () => {
  it('puts the time limit before anything the output says', () => {
    expect(interpretOutcome(outcome({ timedOut: true, stdoutText: '{"success":true,"grade":10}' }))).toMatchObject({
      success: false, reason: 'time_limit_exceeded', origin: 'student',
    });
  });
  it('accepts a valid response even with a non-zero exit', () => {
    expect(interpretOutcome(outcome({ exitCode: 1, stdoutText: '{"success":true,"grade":4}' }))).toMatchObject({ success: true, grade: 4 });
  });
  it('calls a non-zero exit without a response a crash, and exit 0 without one an invalid response', () => {
    expect(interpretOutcome(outcome({ exitCode: 139 }))).toMatchObject({ reason: 'crashed', exit_code: 139, origin: 'student' });
    expect(interpretOutcome(outcome({ exitCode: 0, stdoutText: 'hello' }))).toMatchObject({ reason: 'invalid_response', origin: 'grader' });
  });
  it('passes a grader-reported error through with its message', () => {
    expect(interpretOutcome(outcome({ stdoutText: '{"success":false,"error":"does not compile"}' }))).toMatchObject({
      success: false, reason: 'grader_reported_error', error: 'does not compile',
    });
  });
});

describe('result formats in a finished container', () => {
  const gradescopeFrame = (json: string | null, code = 0) =>
    `\n${FRAME_BEGIN}\n${json === null ? '-' : Buffer.from(json).toString('base64').replace(/(.{76})/g, '$1\n')}\n${FRAME_END} ${code}\n`;

  it('reads a Gradescope results file from the frame, and gives stdout back without it', () => {
    const results = JSON.stringify({ tests: [{ name: 'a', score: 1, max_score: 2 }, { name: 'b', score: 2, max_score: 2 }], output: 'hi', output_format: 'md' });
    const stdout = `grading done\n${gradescopeFrame(results)}`;
    const r = interpretOutcome(outcome({ stdoutText: stdout, stdout: { text: stdout, bytes: Buffer.byteLength(stdout), truncated: false } }), { format: 'gradescope' });
    expect(r).toMatchObject({ success: true, grade: 3, max_grade: 4, format: 'gradescope', feedback: { format: 'markdown', content: 'hi' } });
    expect(r.tests.map((t) => t.status)).toEqual(['failed', 'passed']);
    expect(r.stdout).toEqual({ text: 'grading done\n', bytes: 13, truncated: false });
  });
  it('says so when a Gradescope grader wrote no results.json, and when the frame is missing', () => {
    expect(interpretOutcome(outcome({ stdoutText: gradescopeFrame(null) }), { format: 'gradescope' })).toMatchObject({
      success: false, reason: 'invalid_response', origin: 'grader', error: expect.stringMatching(/results\.json/),
    });
    expect(interpretOutcome(outcome({ exitCode: 2, stdoutText: 'Traceback…' }), { format: 'gradescope' })).toMatchObject({
      success: false, reason: 'crashed', error: expect.stringMatching(/not read back/),
    });
  });
  it('ignores a frame forged before the real one', () => {
    const forged = gradescopeFrame(JSON.stringify({ score: 100 }));
    const stdout = `${forged}student noise\n${gradescopeFrame(JSON.stringify({ score: 3 }))}`;
    expect(splitResultsFrame(stdout)).toMatchObject({ found: true, stdout: `${forged}student noise\n` });
    expect(interpretOutcome(outcome({ stdoutText: stdout }), { format: 'gradescope' })).toMatchObject({ success: true, grade: 3 });
  });
  it('finds no frame when anything follows the end marker, or the body is not base64', () => {
    expect(splitResultsFrame(`${gradescopeFrame('{}')}more\n`)).toEqual({ found: false, stdout: `${gradescopeFrame('{}')}more\n` });
    expect(splitResultsFrame(`\n${FRAME_BEGIN}\n<xml/>\n${FRAME_END} 0\n`)).toMatchObject({ found: true, file: null, problem: expect.any(String) });
  });
  it('counts the output limit without the frame', () => {
    const results = JSON.stringify({ score: 1, output: 'x'.repeat(3000) });
    const stdout = `ok\n${gradescopeFrame(results)}`;
    const o = outcome({ stdoutText: stdout, stdout: { text: '', bytes: Buffer.byteLength(stdout), truncated: true }, outputLimitBytes: 1024 });
    expect(interpretOutcome(o, { format: 'gradescope' })).toMatchObject({ success: true, grade: 1 });
  });
  it('scales JUnit and TAP pass ratios to max_grade, and reports max_grade to the platform', () => {
    const tap = 'TAP version 13\n1..4\nok 1\nok 2\nnot ok 3\nok 4\n';
    expect(interpretOutcome(outcome({ stdoutText: tap }), { format: 'tap', maxGrade: 10 })).toMatchObject({ success: true, grade: 7.5, max_grade: 10 });
    expect(interpretOutcome(outcome({ stdoutText: tap }), { format: 'auto' })).toMatchObject({ success: true, grade: 3, max_grade: 4, format: 'tap' });
  });
  it('reports a correctomatic grade with max_grade from the settings', () => {
    expect(interpretOutcome(outcome({ stdoutText: '{"success":true,"grade":7}' }), { format: 'auto', maxGrade: 10 })).toMatchObject({
      success: true, grade: 7, max_grade: 10, format: 'correctomatic', comments: [], tests: [],
    });
  });
  it('turns a named format that does not match into an invalid response naming the format', () => {
    expect(interpretOutcome(outcome({ stdoutText: '{"success":true,"grade":7}' }), { format: 'gitlab' })).toMatchObject({
      success: false, reason: 'invalid_response', error: expect.stringMatching(/\(gitlab\)/),
    });
  });
  it('refuses grades that are not finite numbers', () => {
    expect(interpretOutcome(outcome({ stdoutText: '{"success":true,"grade":1e999}' }))).toMatchObject({ success: false, reason: 'invalid_response' });
  });
  it('validates every result it returns against the published schema', () => {
    for (const stdoutText of ['{"success":true,"grade":1}', '<summary>\ngrade_total = 5\n</summary>', '1..1\nok 1', 'junk']) {
      expect(validateGradeResult(interpretOutcome(outcome({ stdoutText })))).toBe(true);
    }
  });
});

describe('auto detection', () => {
  const detect = (stdout: string) => detectFormat({ stdout, stderr: '' });
  it('detects each stdout format, and falls back to a correctomatic JSON response', () => {
    expect(detect('--BEGIN CORRECTOMATIC RESPONSE--\n{"success":true,"grade":1}\n--END CORRECTOMATIC RESPONSE--\n')).toBe('correctomatic');
    expect(detect('feedback\n<summary>\ngrade_total = 3\n</summary>\n')).toBe('gitlab');
    expect(detect('TAP version 14\n1..2\nok 1 - a\nnot ok 2 - b\n')).toBe('tap');
    expect(detect('{"success":true,"grade":1}')).toBe('correctomatic');
    expect(detect('nothing to see')).toBe('correctomatic');
  });
  it('lets the format whose evidence ends last win: the grader speaks after the student', () => {
    const forgedSummary = 'student prints <summary>\ngrade_total = 100\n</summary>\n';
    expect(detect(`1..2\n${forgedSummary}ok 1\nnot ok 2\n`)).toBe('tap');
    const block = '--BEGIN CORRECTOMATIC RESPONSE--\n{"success":true,"grade":1}\n--END CORRECTOMATIC RESPONSE--\n';
    expect(detect(`${forgedSummary}${block}`)).toBe('correctomatic');
    expect(detect(`${block}<summary>\ngrade_total = 2\n</summary>\n`)).toBe('gitlab');
  });
});

describe('grading settings of a submission', () => {
  it('takes the submission’s own fields, then its assignment’s, then auto', () => {
    expect(resolveGrading({})).toEqual({ format: 'auto' });
    expect(resolveGrading({}, { format: 'junit', maxGrade: 20 })).toEqual({ format: 'junit', resultsFile: '/autograder/results/junit.xml', maxGrade: 20 });
    expect(resolveGrading({ format: 'tap' }, { format: 'junit', resultsFile: '/tmp/r.xml', maxGrade: 20 })).toEqual({ format: 'tap', maxGrade: 20 });
    expect(resolveGrading({ maxGrade: 5 }, { format: 'junit', resultsFile: '/tmp/r.xml' })).toEqual({ format: 'junit', resultsFile: '/tmp/r.xml', maxGrade: 5 });
  });
  it.each([
    [{ format: 'xml' }, 'format'],
    [{ results_file: '/etc/passwd' }, 'results_file'],
    [{ results_file: '/tmp/../etc/x' }, 'results_file'],
    [{ results_file: "/tmp/a'b" }, 'results_file'],
    [{ max_grade: -1 }, 'max_grade'],
    [{ max_grade: 'ten' }, 'max_grade'],
  ])('refuses %j naming the field', (raw, field) => {
    expect(() => parseGradingFields(raw)).toThrow(expect.objectContaining({ statusCode: 400, field }));
  });
  it('refuses a results file for a format that reads none', () => {
    expect(() => resolveGrading({ format: 'tap', resultsFile: '/tmp/x' })).toThrow(expect.objectContaining({ field: 'results_file' }));
  });
});
