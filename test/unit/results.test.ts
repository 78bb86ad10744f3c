import { describe, expect, it } from 'vitest';
import { extractResponseText, parseCorrectomatic } from '../../src/results/correctomatic';
import { interpretOutcome, type ContainerOutcome } from '../../src/results/interpret';

const empty = { text: '', bytes: 0, truncated: false };
const outcome = (o: Partial<ContainerOutcome>): ContainerOutcome => ({
  exitCode: 0, timedOut: false, oomKilled: false, outputLimitExceeded: false, timeLimitSeconds: 10, memoryMb: 64,
  outputLimitBytes: 1000, stdoutText: '', stdout: empty, stderr: empty, ...o,
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
