import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateGradeResult } from '../../src/results/schemas';
import { GRADESCOPE_METADATA, GRADESCOPE_SAMPLE } from '../helpers/images';
import { useReceiver, useStack } from '../helpers/hooks';
import { STACK_LIMITS } from '../helpers/limits';
import { b64file, gradeThroughCallback } from '../helpers/stack';

/**
 * Gradescope's own Python sample (gradescope/autograder_samples python/src, files unchanged; see
 * test/images/gradescope-python-sample/Dockerfile), graded end to end through the real stack. Its
 * run_autograder copies the submission into /autograder/source; gradescope-utils' JSONTestRunner writes
 * execution_time as a string and a top-level visibility. Two of its tests are random (partial credit
 * 0…10, leaderboard values): the grade is the deterministic tests' points plus the partial test's score.
 */

const SAMPLE = path.resolve(__dirname, '..', 'fixtures', 'gradescope-sample');
const calculator = (variant: string) => b64file('calculator.py', readFileSync(path.join(SAMPLE, variant, 'calculator.py')));

const stack = useStack('gssample', { flavours: { default: { ...STACK_LIMITS }, root: { ...STACK_LIMITS, allowRoot: true } } });
const receiver = useReceiver(stack);

type Test = { name: string; score: number; max_score: number; status: string; number?: string; visibility?: string };

async function grade(assignment: string, body: Record<string, unknown>) {
  const { callback, done } = await gradeThroughCallback(stack, receiver, '/gradescope', { assignment_id: assignment, ...body });
  expect(validateGradeResult(done.result)).toBe(true);
  // The platform gets what the record has (output excerpts aside).
  expect(callback.tests).toEqual((done.result as { tests: Test[] }).tests);
  return callback;
}

const partialOf = (tests: Test[]): number => tests.find((t) => t.name === 'Sets partial credit')!.score;
const failedNumbers = (tests: Test[]): string[] => tests.filter((t) => t.status === 'failed' && t.number).map((t) => t.number!);

describe("Gradescope's Python sample, unchanged, end to end", () => {
  it('the correct solution as nobody: every deterministic test passes, the scores Gradescope would give', async () => {
    expect((await stack.request('PUT', '/v1/assignments/calc', { image: GRADESCOPE_SAMPLE, format: 'gradescope' })).status).toBe(201);
    const cb = await grade('calc', { file: calculator('solution') });
    const tests = cb.tests as Test[];
    expect(tests).toHaveLength(14);
    expect(failedNumbers(tests)).toEqual([]);
    const partial = partialOf(tests);
    expect(partial).toBeGreaterThanOrEqual(0);
    expect(partial).toBeLessThanOrEqual(10);
    // 6 (simple) + 8 (complex) + 4 (integration) + 2 (unknown) + partial; max 6 + 8 + 4 + 10 + 2.
    expect(cb).toMatchObject({ success: true, format: 'gradescope', max_grade: 30 });
    expect(cb.grade).toBeCloseTo(20 + partial, 4);
    // In the order of the tests' numbers; the top-level "visible" fills in where a test has none.
    expect(tests.slice(0, 9).map((t) => t.number)).toEqual(['1.1', '1.2', '1.3', '1.4', '1.5', '2.1', '2.2', '2.3', '2.4']);
    expect(tests.find((t) => t.number === '2.1')!.visibility).toBe('after_due_date');
    expect(tests.find((t) => t.name === 'Check submitted files')!.visibility).toBe('visible');
    expect(tests.find((t) => t.name.startsWith('Evaluating 2 ** 8'))!.visibility).toBe('after_published');
    // Gradescope would hide the total while tests are hidden: the platform is told until when.
    expect(cb.grade_visibility).toBe('after_published');
    // gradescope-utils writes execution_time as a string ("0.52"): read as seconds.
    expect(typeof cb.execution_time).toBe('number');
    expect(cb.leaderboard.map((e: { name: string }) => e.name).sort()).toEqual(['accuracy', 'high score', 'stars', 'time']);
    expect(cb.leaderboard.find((e: { name: string }) => e.name === 'time').order).toBe('asc');
  });

  it("an incorrect solution as root (Gradescope's own way), with the assignment's max grade as the total", async () => {
    const put = await stack.request('PUT', '/v1/assignments/calc-root', { image: GRADESCOPE_SAMPLE, format: 'gradescope', flavour: 'root', max_grade: 40 });
    expect(put.status).toBe(201);
    const cb = await grade('calc-root', { file: calculator('incorrect_1') });
    const tests = cb.tests as Test[];
    // Left to right and split on spaces: "1+1", "(1 + 1) * 4" and "1 + 1 * 8" fail.
    expect(failedNumbers(tests)).toEqual(['1.5', '2.1', '2.2']);
    const partial = partialOf(tests);
    expect(cb).toMatchObject({ success: true, max_grade: 40, grade_visibility: 'after_published' });
    expect(cb.grade).toBeCloseTo(14 + partial, 4);
  });
});

describe('what graders are told', () => {
  it("Gradescope's submission_metadata.json with the student's earlier submissions and their scores; the same facts as environment variables; no secret", async () => {
    expect((await stack.request('PUT', '/v1/assignments/meta', { image: GRADESCOPE_METADATA, format: 'gradescope', max_grade: 20 })).status).toBe(201);
    const student = `s-${Math.random().toString(36).slice(2)}`;
    const told = (cb: Record<string, any>) => JSON.parse(cb.feedback.content) as { metadata: Record<string, any>; env: Record<string, string> };
    const first = await grade('meta', { file: b64file('a.py', 'x = 1\n'), student_id: student, course_id: 'cs101' });
    const unknown = { title: null, release_date: null, due_date: null, late_due_date: null, group_submission: null, group_size: null };
    expect(told(first).metadata).toEqual({
      id: first.submission_id,
      created_at: expect.any(String),
      assignment: { id: 'meta', course_id: 'cs101', total_points: '20.0', ...unknown },
      submission_method: null,
      users: [{ id: student, name: null, email: null, assignment: null }],
      previous_submissions: [],
    });
    // Another student's submission is not this student's history.
    await grade('meta', { file: b64file('a.py', 'x = 2\n'), student_id: `${student}-other` });
    const second = await grade('meta', { file: b64file('a.py', 'x = 3\n'), student_id: student });
    const { metadata, env } = told(second);
    expect(metadata.id).toBe(second.submission_id);
    expect(Date.parse(metadata.created_at)).toBeGreaterThan(Date.parse(told(first).metadata.created_at));
    expect(metadata.users).toEqual([{ id: student, name: null, email: null, assignment: null }]);
    // The earlier submission with its score and its results, as Gradescope gives them (its results.json's fields).
    expect(metadata.previous_submissions).toEqual([
      {
        submission_time: told(first).metadata.created_at,
        score: 1,
        autograder_error: false,
        results: { score: 1, max_score: 20, tests: [], output: first.feedback.content, output_format: 'text' },
      },
    ]);
    expect(second.grade).toBe(2);
    expect(env).toMatchObject({
      GRADEFLOW_SUBMISSION_ID: second.submission_id,
      GRADEFLOW_ATTEMPT: '1',
      GRADEFLOW_ASSIGNMENT_ID: 'meta',
      GRADEFLOW_STUDENT_ID: student,
      GRADEFLOW_PREVIOUS_SUBMISSIONS: '1',
      GRADEFLOW_PREVIOUS_SCORE: '1',
      GRADEFLOW_PREVIOUS_SCORES: '1',
      GRADEFLOW_TOTAL_POINTS: '20',
      GRADEFLOW_CREATED_AT: metadata.created_at,
    });
    // The assignment's max grade as stored when grading is the total; the scores of every earlier one, oldest first.
    expect((await stack.request('PUT', '/v1/assignments/meta', { image: GRADESCOPE_METADATA, format: 'gradescope', max_grade: 25 })).status).toBe(200);
    const third = told(await grade('meta', { file: b64file('a.py', 'x = 4\n'), student_id: student }));
    expect(third.metadata.assignment.total_points).toBe('25.0');
    expect(third.metadata.previous_submissions.map((p: { score: number }) => p.score)).toEqual([1, 2]);
    expect(third.env).toMatchObject({ GRADEFLOW_TOTAL_POINTS: '25', GRADEFLOW_PREVIOUS_SCORES: '1,2', GRADEFLOW_PREVIOUS_SUBMISSIONS: '2' });
    const everything = JSON.stringify(env);
    expect(everything).not.toContain(stack.config.workerToken!);
    expect(everything).not.toContain(stack.secret);
  });
});

