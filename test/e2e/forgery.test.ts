import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_IMAGE_TAGS } from '../../src/setup/images';
import { useReceiver, useStack } from '../helpers/hooks';
import { FORGERY_LIMITS as LIMITS } from '../helpers/limits';
import { b64file, gradeThroughCallback } from '../helpers/stack';

/**
 * A student who tries to forge a full grade, against every shipped example grader (real Docker, real
 * Temporal): a wrong solution that also rewrites the results file from an exit handler, from a process it
 * leaves running and read-only; or prints a forged result block on its stdout, on the grader's own stdout
 * (through /proc/1/fd/1, which a process of the same uid may open) and from a process that keeps printing
 * after the grader ends. The grade must be the wrong solution's, and the shipped and correct solutions
 * must still get theirs.
 */

const EXAMPLES = path.resolve(__dirname, '..', '..', 'examples');
const shipped = (example: string, name: string) => readFileSync(path.join(EXAMPLES, example, 'submission', name));

const stack = useStack('forgery', { flavours: { default: LIMITS } });
const receiver = useReceiver(stack);

async function grade(body: Record<string, unknown>) {
  const { callback, done } = await gradeThroughCallback(stack, receiver, '/forgery', body);
  return { callback, stdout: String((done.result as Record<string, any>).stdout?.text ?? '') };
}

/** Shell: a process left running (detached from the grader's pipes) that prints `$1` on PID 1's stdout every 50 ms. */
const SH_FORGER = [
  'keep_printing() {',
  '  if mkdir /tmp/.forger 2>/dev/null; then',
  '    ( exec </dev/null >/proc/1/fd/1 2>/dev/null; while :; do forged; sleep 0.05; done ) &',
  '  fi',
  '}',
].join('\n');

/** A shell submission that prints `block` every way it can, then gives `answer`. */
const shellForgery = (block: string, answer: string) =>
  [
    '#!/bin/sh',
    `forged() { printf '%s\\n' '${block}'; }`,
    SH_FORGER,
    'forged                             # on its own stdout, with more lines after the answer below',
    "trap 'forged >/proc/1/fd/1' EXIT   # an exit handler, on the grader's stdout",
    'forged >/proc/1/fd/1               # on the grader\'s stdout, now',
    'keep_printing                      # and from a process left running',
    answer,
  ].join('\n');

/** Python: the results file rewritten at import, read-only, from an exit handler and from a process left running. */
const pythonForgery = (resultsFile: string, forged: string, functions: string) => `
import atexit, os, time
RESULTS = ${JSON.stringify(resultsFile)}
FORGED = ${JSON.stringify(forged)}

def forge():
    try:
        if os.path.exists(RESULTS):
            os.chmod(RESULTS, 0o644)
        with open(RESULTS, "w") as f:
            f.write(FORGED)
        os.chmod(RESULTS, 0o444)  # read-only: a grader that opens it for writing fails
    except OSError:
        pass

forge()
atexit.register(forge)
if not os.path.exists("/tmp/.forger"):
    os.mkdir("/tmp/.forger")
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            null = os.open("/dev/null", os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            for _ in range(3000):
                forge()
                time.sleep(0.01)
        os._exit(0)

${functions}
`;

const FORGED_JUNIT = '<testsuite name="forged"><testcase classname="forged" name="forged"/></testsuite>';
const FORGED_GRADESCOPE = JSON.stringify({ score: 10, output: 'forged', tests: [{ name: 'forged', score: 10, max_score: 10, status: 'passed' }] });

describe('a wrong solution that tries to forge a full grade gets the wrong solution’s grade', () => {
  it('correctomatic (sum): forged blocks on stdout, on the grader’s stdout, from an exit handler and a leftover process', async () => {
    const block = '--BEGIN CORRECTOMATIC RESPONSE--\n{"success": true, "grade": 10, "comments": ["forged"]}\n--END CORRECTOMATIC RESPONSE--';
    const { callback, stdout } = await grade({ image: EXAMPLE_IMAGE_TAGS.correctomatic, file: b64file('sum.sh', shellForgery(block, 'echo 7')) });
    expect(stdout).toContain('"forged"'); // the forgery did reach the grader's stdout
    expect(callback).toMatchObject({ success: true, grade: 0, comments: ['0 of 5 cases pass.', expect.stringContaining('Wrong sums')] });
  });

  it('gitlab: forged <summary> blocks the same ways', async () => {
    const block = '<summary>\ngrade_total = 100\nmax_grade = 100\n</summary>';
    const { callback } = await grade({ image: EXAMPLE_IMAGE_TAGS.gitlab, file: b64file('reverse.sh', shellForgery(block, 'echo nope')) });
    expect(callback.feedback.content).toContain('grade_total = 100'); // the forgery is there, but not last
    expect(callback).toMatchObject({ success: true, grade: 0, max_grade: 100, format: 'gitlab' });
  });

  it('TAP: a forged plan and oks, whole streams on the grader’s stdout, and oks smuggled into the answer', async () => {
    const block = 'TAP version 13\n1..5\nok 1 - forged\nok 2 - forged\nok 3 - forged\nok 4 - forged\nok 5 - forged';
    const file = shellForgery(block, `fizzbuzz() { printf 'no\\n  ...\\nok %s - forged\\n' "$1"; }`);
    const { callback, stdout } = await grade({ image: EXAMPLE_IMAGE_TAGS.tap, file: b64file('fizzbuzz.sh', file) });
    expect(stdout).toContain('ok 5 - forged');
    expect(callback).toMatchObject({ success: true, grade: 0, max_grade: 5, format: 'tap' });
    expect(callback.tests.map((t: { status: string }) => t.status)).toEqual(Array(5).fill('failed'));
  });

  it('JUnit (pytest): the XML rewritten at import, read-only, at exit and by a leftover process (attack report row 222)', async () => {
    const file = pythonForgery('/autograder/results/junit.xml', FORGED_JUNIT, 'def mean(xs):\n    return 0\n\ndef median(xs):\n    return 0\n');
    const { callback } = await grade({ image: EXAMPLE_IMAGE_TAGS.pytest, file: b64file('stats.py', file), format: 'junit' });
    expect(callback).toMatchObject({ success: true, grade: 0, max_grade: 8, format: 'junit' });
    expect(callback.tests.map((t: { name: string }) => t.name)).not.toContain('forged');
  });

  it('JUnit (pytest): the student kills pytest, then writes the XML', async () => {
    const functions = [
      'import signal',
      'def mean(xs):',
      '    forge()',
      '    os.kill(-1, signal.SIGKILL)  # every process but PID 1 and this one: pytest too',
      '    return 0',
      'median = mean',
    ].join('\n');
    const file = pythonForgery('/autograder/results/junit.xml', FORGED_JUNIT, functions);
    const { callback } = await grade({ image: EXAMPLE_IMAGE_TAGS.pytest, file: b64file('stats.py', file), format: 'junit' });
    expect(callback).toMatchObject({ success: false, reason: 'crashed', origin: 'student' });
    expect(callback.error).toMatch(/killed by a signal/);
  });

  it('Gradescope: results.json written by the student’s code at import, read-only, at exit and by a leftover process', async () => {
    await stack.request('PUT', '/v1/assignments/forged-primes', { image: EXAMPLE_IMAGE_TAGS.gradescope, format: 'gradescope' });
    const file = pythonForgery('/autograder/results/results.json', FORGED_GRADESCOPE, 'def is_prime(n):\n    return n % 2 == 0\n');
    const { callback } = await grade({ assignment_id: 'forged-primes', file: b64file('primes.py', file) });
    expect(callback).toMatchObject({ success: true, grade: 0, max_grade: 10, format: 'gradescope' });
    expect(callback.tests.map((t: { name: string }) => t.name)).not.toContain('forged');
  });
});

describe('the shipped submissions keep their grades, and correct ones get full marks', () => {
  it.each([
    ['correctomatic', 'sum.sh', shipped('sum-grader', 'sum.sh'), {}, 10, undefined],
    ['gitlab', 'reverse.sh', shipped('gitlab-grader', 'reverse.sh'), {}, 100, 100],
    ['tap', 'fizzbuzz.sh', shipped('tap-grader', 'fizzbuzz.sh'), {}, 4, 5],
    ['tap', 'fizzbuzz.sh', 'fizzbuzz() {\n  if [ $(($1 % 15)) -eq 0 ]; then echo FizzBuzz\n  elif [ $(($1 % 3)) -eq 0 ]; then echo Fizz\n  elif [ $(($1 % 5)) -eq 0 ]; then echo Buzz\n  else echo "$1"\n  fi\n}\n', {}, 5, 5],
    ['pytest', 'stats.py', shipped('pytest-grader', 'stats.py'), { format: 'junit' }, 5, 8],
    ['pytest', 'stats.py', 'import statistics\ndef mean(xs):\n    if not xs:\n        raise ValueError("empty")\n    return sum(xs) / len(xs)\n\ndef median(xs):\n    return statistics.median(xs)\n', { format: 'junit' }, 8, 8],
    ['gradescope', 'primes.py', shipped('gradescope-grader', 'primes.py'), { format: 'gradescope' }, 7, 10],
    ['gradescope', 'primes.py', 'def is_prime(n):\n    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))\n', { format: 'gradescope' }, 10, 10],
  ] as const)('%s: %s', async (example, name, content, extra, expectedGrade, maxGrade) => {
    const { callback } = await grade({ image: EXAMPLE_IMAGE_TAGS[example], file: b64file(name, content), ...extra });
    expect(callback).toMatchObject({ success: true, grade: expectedGrade, ...(maxGrade !== undefined ? { max_grade: maxGrade } : {}) });
  });
});
