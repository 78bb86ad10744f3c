import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FRAME_BEGIN, FRAME_END } from '../../src/results/results-frame';
import { validateGradeResult } from '../../src/results/schemas';
import { EXAMPLE_IMAGE_TAGS } from '../../src/setup/images';
import { makeZip } from '../helpers/archives';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useReceiver, useStack } from '../helpers/hooks';
import { runcAndGvisor, STACK_LIMITS as LIMITS } from '../helpers/limits';
import { b64file, gradeThroughCallback, leftoverContainers } from '../helpers/stack';

const EXAMPLES = path.resolve(__dirname, '..', '..', 'examples');
const exampleFile = (example: string, name: string) => b64file(name, readFileSync(path.join(EXAMPLES, example, 'submission', name)));

// gVisor too: the results frame relies on PID 1 and `kill -1`, which gVisor's kernel implements itself.
const stack = useStack('formats', { flavours: runcAndGvisor(LIMITS) });
const receiver = useReceiver(stack);

/** POST, wait for the signed callback and the completed record; both must carry the same result. */
async function grade(body: Record<string, unknown>) {
  const { callback, done } = await gradeThroughCallback(stack, receiver, '/formats', body);
  expect(validateGradeResult(done.result)).toBe(true);
  return { callback, result: done.result as Record<string, any>, record: done };
}

describe('the example graders, one per format, end to end', () => {
  it('gitlab-ag: the <summary> grade, the whole stdout as feedback, stderr kept for the instructor', async () => {
    const { callback, result } = await grade({
      image: EXAMPLE_IMAGE_TAGS.gitlab,
      file: b64file('reverse.sh', '#!/bin/sh\necho "$1"\n'), // only palindromes come out right
    });
    expect(callback).toMatchObject({ success: true, grade: 50, max_grade: 100, format: 'gitlab', tests: [], comments: [] });
    expect(callback.feedback.format).toBe('text');
    expect(callback.feedback.content).toContain('FAIL reverse(abc)');
    expect(callback.feedback.content).toContain('grade_total = 50');
    expect(callback).not.toHaveProperty('stderr');
    expect(result.stderr.text).toContain("case abc failed with output 'abc'");
  });

  it('TAP: one test per line, the failure’s diagnostics as its output', async () => {
    const { callback } = await grade({ image: EXAMPLE_IMAGE_TAGS.tap, file: exampleFile('tap-grader', 'fizzbuzz.sh') });
    expect(callback).toMatchObject({ success: true, grade: 4, max_grade: 5, format: 'tap' });
    expect(callback.tests).toHaveLength(5);
    const failed = callback.tests.filter((t: { status: string }) => t.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ name: expect.stringContaining('fizzbuzz 15'), score: 0, max_score: 1 });
    expect(failed[0].output).toContain('expected FizzBuzz');
  });

  it('TAP scaled to the submission’s max_grade', async () => {
    const { callback } = await grade({ image: EXAMPLE_IMAGE_TAGS.tap, file: exampleFile('tap-grader', 'fizzbuzz.sh'), format: 'tap', max_grade: 20 });
    expect(callback).toMatchObject({ success: true, grade: 16, max_grade: 20, format: 'tap' });
  });

  it('Gradescope (Python, set per assignment): results.json read after exit, tests with visibility, markdown feedback', async () => {
    const put = await stack.request('PUT', '/v1/assignments/primes', { image: EXAMPLE_IMAGE_TAGS.gradescope, format: 'gradescope' });
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ assignment_id: 'primes', image: EXAMPLE_IMAGE_TAGS.gradescope, format: 'gradescope' });
    const { callback, result, record } = await grade({ assignment_id: 'primes', file: exampleFile('gradescope-grader', 'primes.py') });
    expect(record).toMatchObject({ image: EXAMPLE_IMAGE_TAGS.gradescope, grading: { format: 'gradescope' } });
    expect(callback).toMatchObject({
      success: true,
      grade: 7,
      max_grade: 10,
      format: 'gradescope',
      stdout_visibility: 'hidden',
      feedback: { format: 'markdown', content: '**3 of 4** tests pass.' },
    });
    expect(callback.tests.map((t: Record<string, unknown>) => [t.name, t.score, t.max_score, t.status, t.visibility])).toEqual([
      ['small primes', 2, 2, 'passed', 'visible'],
      ['small composites', 2, 2, 'passed', 'visible'],
      ['0 and 1 are not prime', 0, 3, 'failed', 'visible'],
      ['a large prime', 3, 3, 'passed', 'after_published'],
    ]);
    // The instructor's stdout excerpt is the grader's own output, without the frame that carried the file.
    expect(result.stdout.text).toBe('grading done\n');
    expect(result.stdout.text).not.toContain(FRAME_BEGIN);
  });

  it('Gradescope with an archive, under gVisor: its contents land in /autograder/submission/', async () => {
    await stack.request('PUT', '/v1/assignments/primes-zip', { image: EXAMPLE_IMAGE_TAGS.gradescope, format: 'gradescope', flavour: 'gvisor' });
    const zip = await makeZip([
      { name: 'primes.py', content: readFileSync(path.join(EXAMPLES, 'gradescope-grader', 'submission', 'primes.py')) },
      { name: 'notes/README.txt', content: 'my notes' },
    ]);
    const { callback, record } = await grade({ assignment_id: 'primes-zip', file: b64file('answer.zip', zip) });
    expect(record.flavour).toBe('gvisor');
    expect(callback).toMatchObject({ success: true, grade: 7, max_grade: 10, format: 'gradescope' });
  });

  it('JUnit XML (pytest, Python): per-test weights from record_property', async () => {
    const { callback } = await grade({ image: EXAMPLE_IMAGE_TAGS.pytest, file: exampleFile('pytest-grader', 'stats.py'), format: 'junit' });
    expect(callback).toMatchObject({ success: true, grade: 5, max_grade: 8, format: 'junit' });
    const byName = Object.fromEntries(callback.tests.map((t: Record<string, unknown>) => [String(t.name).split('.').at(-1), t]));
    expect(byName.test_median_even).toMatchObject({ status: 'failed', score: 0, max_score: 3 });
    expect(byName.test_median_even.output).toContain('assert');
    expect(byName.test_mean).toMatchObject({ status: 'passed', score: 2, max_score: 2 });
    expect(byName.test_mean_of_empty_raises).toMatchObject({ status: 'passed', score: 1, max_score: 1 });
  });
});

describe('results files from hostile or broken graders', () => {
  const junit = (cases: string) => `<?xml version="1.0"?><testsuite name="s">${cases}</testsuite>`;

  it.each(['default', 'gvisor'])('reads the real file even when a leftover process prints a forged frame after the grader exits (%s)', async (flavour) => {
    const forged = `${FRAME_BEGIN}\n${Buffer.from(junit('<testcase name="forged"/>'.repeat(9))).toString('base64')}\n${FRAME_END} 0`;
    const script = [
      `printf '%s' '${junit('<testcase name="real"><failure message="no"/></testcase><testcase name="ok"/>')}' > "$RESULTS_FILE"`,
      // A process the grader leaves behind, trying to speak after it.
      `(sleep 1; printf '\\n%s\\n' '${forged}') &`,
      'exit 0',
    ].join('\n');
    const { callback } = await grade({ image: SCRIPT_RUNNER, file: b64file('grade.sh', script), format: 'junit', flavour });
    expect(callback).toMatchObject({ success: true, grade: 1, max_grade: 2, format: 'junit' });
    expect(callback.tests.map((t: { name: string }) => t.name)).toEqual(['real', 'ok']);
  });

  it('a JUnit file at a configured path under /tmp', async () => {
    const script = `mkdir -p /tmp/out && printf '%s' '${junit('<testcase name="a"/>')}' > /tmp/out/r.xml`;
    const { callback } = await grade({ image: SCRIPT_RUNNER, file: b64file('grade.sh', script), format: 'junit', results_file: '/tmp/out/r.xml', max_grade: 10 });
    expect(callback).toMatchObject({ success: true, grade: 10, max_grade: 10 });
  });

  it('no results file: an invalid response that says which file was missing', async () => {
    const { callback } = await grade({ image: SCRIPT_RUNNER, file: b64file('grade.sh', 'echo "forgot to write it"'), format: 'junit' });
    expect(callback).toMatchObject({ success: false, reason: 'invalid_response', origin: 'grader', format: 'junit' });
    expect(callback.error).toMatch(/JUnit XML/);
  });

  it('a results file over the limit is refused, not cut', async () => {
    const script = 'head -c 1100000 /dev/zero > "$RESULTS_FILE"';
    const { callback } = await grade({ image: SCRIPT_RUNNER, file: b64file('grade.sh', script), format: 'junit' });
    expect(callback).toMatchObject({ success: false, reason: 'invalid_response' });
    expect(callback.error).toMatch(/larger than 1048576 bytes/);
  });

  it('leaves no container behind', async () => {
    expect(await leftoverContainers(stack.hostId)).toEqual([]);
  });
});

describe('the API around formats', () => {
  it('publishes the schemas, unauthenticated', async () => {
    const list = await fetch(`${stack.server.url}/v1/schemas`).then((r) => r.json() as Promise<{ schemas: Array<{ name: string }> }>);
    expect(list.schemas.map((s) => s.name)).toEqual(expect.arrayContaining(['grade-result', 'callback-body', 'correctomatic-response', 'gradescope-results']));
    const res = await fetch(`${stack.server.url}/v1/schemas/grade-result`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/schema\+json/);
    expect(await res.text()).toBe(readFileSync(path.resolve(__dirname, '..', '..', 'schemas', 'grade-result.schema.json'), 'utf8'));
    const missing = await fetch(`${stack.server.url}/v1/schemas/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it.each([
    [{ format: 'yaml' }, 'format'],
    [{ format: 'tap', results_file: '/tmp/x.xml' }, 'results_file'],
    [{ max_grade: 0 }, 'max_grade'],
    [{ image: 'Not An Image' }, 'image'],
    [{ flavour: 'huge' }, 'flavour'],
    [{ colour: 'red' }, 'colour'],
  ])('PUT /v1/assignments refuses %j naming the field', async (body, field) => {
    const res = await stack.request('PUT', '/v1/assignments/bad', body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'invalid_field', field } });
  });

  it('a submission refuses a bad format naming the field, and stores nothing', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, file: b64file('grade.sh', 'true'), format: 'xml', work_id: 'bad-format' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { field: 'format' } });
    const again = await stack.post({ image: SCRIPT_RUNNER, file: b64file('grade.sh', 'true'), work_id: 'bad-format' });
    expect(again.status).toBe(202);
  });

  it('replaces an assignment’s settings (200) and reads them back; unknown assignments are 404', async () => {
    await stack.request('PUT', '/v1/assignments/hw-x', { format: 'tap' });
    const put = await stack.request('PUT', '/v1/assignments/hw-x', { format: 'junit', results_file: '/tmp/r.xml', max_grade: 10 });
    expect(put.status).toBe(200);
    expect((await stack.request('GET', '/v1/assignments/hw-x')).body).toMatchObject({ format: 'junit', results_file: '/tmp/r.xml', max_grade: 10, image: null });
    expect((await stack.request('GET', '/v1/assignments/none')).status).toBe(404);
  });
});
