import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { tapParser } from '../../src/results/formats/tap';
import { interpretOutcome, type ContainerOutcome } from '../../src/results/interpret';
import { splitResultsFrame, wrappedEntrypoint } from '../../src/results/results-frame';

/** Reading results a student's code tried to forge: see test/e2e/forgery.test.ts for the graders themselves. */

describe('TAP: the stream starts at the last "TAP version" line', () => {
  it('a whole stream printed earlier (by a process the student left running) does not count', () => {
    const forged = 'TAP version 13\n1..3\nok 1 - forged\nok 2 - forged\nok 3 - forged\n';
    const real = 'TAP version 13\n1..3\nok 1 - a\nnot ok 2 - b\nnot ok 3 - c\n';
    const outcome = tapParser.parse({ stdout: `${forged}noise\n${real}`, stderr: '' });
    expect(outcome).toMatchObject({ ok: true, parsed: { grade: 1, max_grade: 3 } });
  });
});

/**
 * Run the frame script with `sh` on this machine, the grader being `sh -c <grader>`. Its `kill -1` is taken
 * out first: outside a container's PID namespace it would signal every process of this user.
 */
function runFramed(grader: string, resultsFile: string): string {
  const [shell, flag, script, ...rest] = wrappedEntrypoint(['/bin/sh', '-c', grader], resultsFile);
  const safe = script!.replace(/^kill -s KILL -1.*$/m, ':');
  expect(safe).not.toMatch(/kill/);
  try {
    return execFileSync(shell!, [flag!, safe, ...rest], { encoding: 'utf8' });
  } catch (err) {
    return (err as { stdout: string }).stdout;
  }
}

describe('results frame: a grader killed by a signal leaves no trusted file', () => {
  const file = `/tmp/gradeflow-frame-${process.pid}.xml`;
  const xml = '<testsuite><testcase name="forged"/></testsuite>';

  it('reads the file of a grader that exits, even with a failure code', () => {
    const framed = splitResultsFrame(runFramed(`printf '%s' '${xml}' > ${file}; exit 1`, file));
    expect(framed).toMatchObject({ found: true, file: Buffer.from(xml) });
  });

  it('does not read the file when the grader was killed (the student killed it and wrote the file)', () => {
    const stdout = runFramed(`printf '%s' '${xml}' > ${file}; kill -s KILL $$`, file);
    const framed = splitResultsFrame(stdout);
    expect(framed).toMatchObject({ found: true, file: null, problem: expect.stringMatching(/killed by a signal \(exit code 137\)/) });
    const outcome: ContainerOutcome = {
      exitCode: 137, timedOut: false, oomKilled: false, outputLimitExceeded: false, timeLimitSeconds: 10, memoryMb: 64,
      outputLimitBytes: 1 << 20, stdoutText: stdout, stderrText: '',
      stdout: { text: stdout, bytes: stdout.length, truncated: false }, stderr: { text: '', bytes: 0, truncated: false },
    } as ContainerOutcome;
    expect(interpretOutcome(outcome, { format: 'junit' } as never)).toMatchObject({ success: false, reason: 'crashed', origin: 'student' });
  });
});
