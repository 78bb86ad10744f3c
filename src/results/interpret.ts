import type { GradeResult, GradingSettings, OutputExcerpt } from '../shared/types';
import { failureResult } from '../shared/failure-result';
import { containerLayout } from './container-layout';
import { FILE_FORMATS, parseGraderOutput } from './formats';
import { round4 } from './formats/bounds';
import type { GraderExtras, ParsedGrade } from './formats/types';
import { excerptOf } from './output-excerpt';
import { splitResultsFrame } from './results-frame';
import { describeSchemaError, validateGradeResult } from './schemas';

/** What a grading host observed about one finished container. */
export interface ContainerOutcome {
  exitCode: number;
  /** Wall-clock time the container ran, from Docker's own start and finish times. */
  durationMs?: number;
  timedOut: boolean;
  oomKilled: boolean;
  /** The collector reached its cap and had the container killed. */
  outputLimitExceeded: boolean;
  timeLimitSeconds: number;
  memoryMb: number;
  outputLimitBytes: number;
  /** Everything kept of stdout (up to the collector's cap): what the result is parsed from. */
  stdoutText: string;
  stderrText: string;
  stdout: OutputExcerpt;
  stderr: OutputExcerpt;
}

type Streams = Pick<GradeResult, 'exit_code' | 'duration_ms' | 'stdout' | 'stderr'>;

/** Sum of the tests' scores: the grade of a grader that reports tests and no total of its own. */
const sumOfScores = (p: ParsedGrade): number | undefined => (p.tests.length ? round4(p.tests.reduce((sum, t) => sum + t.score, 0)) : undefined);

/** The extras a parser read (Gradescope's), exactly those fields. */
function extrasOf(p: ParsedGrade): GraderExtras {
  const { grade_visibility, output_format, execution_time, extra_data, leaderboard } = p;
  return {
    ...(grade_visibility !== undefined ? { grade_visibility } : {}),
    ...(output_format !== undefined ? { output_format } : {}),
    ...(execution_time !== undefined ? { execution_time } : {}),
    ...(extra_data !== undefined ? { extra_data } : {}),
    ...(leaderboard !== undefined ? { leaderboard } : {}),
  };
}

function graded(p: ParsedGrade, format: GradeResult['format'], grading: GradingSettings | undefined, streams: Streams): GradeResult {
  const grade = p.grade ?? sumOfScores(p);
  const maxGrade = p.max_grade ?? grading?.maxGrade;
  return {
    success: true,
    ...(grade !== undefined ? { grade } : {}),
    ...(maxGrade !== undefined ? { max_grade: maxGrade } : {}),
    comments: p.comments,
    tests: p.tests,
    ...(p.feedback ? { feedback: p.feedback } : {}),
    ...(p.stdout_visibility ? { stdout_visibility: p.stdout_visibility } : {}),
    ...extrasOf(p),
    ...(format ? { format } : {}),
    ...streams,
  };
}

/** A result that passes the published schema, or the grader's fault saying why it could not. */
function validated(result: GradeResult, streams: Streams): GradeResult {
  const numbers = [result.grade, result.max_grade, ...result.tests.flatMap((t) => [t.score, t.max_score])];
  if (numbers.some((n) => n !== undefined && !Number.isFinite(n))) {
    return failureResult('invalid_response', 'grader', "The grader's response is invalid: a grade or score is not a finite number.", streams);
  }
  if (validateGradeResult(result)) return result;
  return failureResult('invalid_response', 'grader', `The grader's response is invalid: the result ${describeSchemaError(validateGradeResult)}.`, streams);
}

/**
 * Turn what the container did into a result. Limits come first (a killed container's output is partial),
 * then the output in the submission's format; a non-zero exit with no valid result is a crash.
 */
export function interpretOutcome(o: ContainerOutcome, grading?: GradingSettings): GradeResult {
  const layout = containerLayout(grading);
  let stdoutText = o.stdoutText;
  let stdout = o.stdout;
  let resultsFile: Buffer | null | undefined;
  let fileProblem: string | undefined;
  if (layout.resultsFile) {
    const framed = splitResultsFrame(o.stdoutText);
    if (framed.found) {
      stdoutText = framed.stdout;
      stdout = excerptOf(Buffer.from(framed.stdout), Math.max(0, o.stdout.bytes - framed.frameBytes));
      resultsFile = framed.file;
      fileProblem = framed.problem;
    } else {
      fileProblem = `the results file ${layout.resultsFile} was not read back (the image needs /bin/sh, head and base64)`;
    }
  }
  const streams: Streams = {
    exit_code: o.exitCode,
    ...(o.durationMs !== undefined ? { duration_ms: o.durationMs } : {}),
    stdout,
    stderr: o.stderr,
  };
  if (o.timedOut) {
    return failureResult('time_limit_exceeded', 'student', `Time limit exceeded: the grading was stopped after ${o.timeLimitSeconds} s.`, streams);
  }
  if (o.oomKilled) {
    return failureResult('memory_limit_exceeded', 'student', `Memory limit exceeded: the grading used more than ${o.memoryMb} MiB and was stopped.`, streams);
  }
  if (o.outputLimitExceeded || stdout.bytes + o.stderr.bytes > o.outputLimitBytes) {
    return failureResult('output_limit_exceeded', 'student', `Output limit exceeded: the grading printed more than ${o.outputLimitBytes} bytes and was stopped.`, streams);
  }
  const choice = grading?.format ?? 'auto';
  const { format, outcome } =
    fileProblem !== undefined && choice !== 'auto' && FILE_FORMATS.has(choice)
      ? { format: choice, outcome: { ok: false as const, problem: fileProblem } }
      : parseGraderOutput(choice, {
          stdout: stdoutText,
          stderr: o.stderrText,
          ...(layout.resultsFile ? { resultsFile: resultsFile ?? null } : {}),
          ...(grading?.maxGrade !== undefined ? { maxGrade: grading.maxGrade } : {}),
        });
  if (outcome.ok) {
    const p = outcome.parsed;
    if (!p.success) {
      return failureResult('grader_reported_error', 'student', p.error ?? 'The grader reported an error.', {
        comments: p.comments,
        tests: p.tests,
        ...(format ? { format } : {}),
        ...streams,
      });
    }
    return validated(graded(p, format, grading, streams), streams);
  }
  const named = format ? ` (${format})` : '';
  if (o.exitCode !== 0) {
    return failureResult('crashed', 'student', `The grading crashed with exit code ${o.exitCode} and gave no valid result${named}: ${outcome.problem}.`, {
      format,
      ...streams,
    });
  }
  return failureResult('invalid_response', 'grader', `The grader's response${named} is invalid: ${outcome.problem}.`, { format, ...streams });
}
