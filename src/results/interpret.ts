import type { GradeResult, OutputExcerpt } from '../shared/types';
import { parseCorrectomatic } from './correctomatic';

/** What a grading host observed about one finished container. */
export interface ContainerOutcome {
  exitCode: number;
  /** Wall-clock time the container ran, from Docker's own start and finish times. */
  durationMs?: number;
  timedOut: boolean;
  oomKilled: boolean;
  outputLimitExceeded: boolean;
  timeLimitSeconds: number;
  memoryMb: number;
  outputLimitBytes: number;
  /** Everything kept of stdout (up to the output limit): what the response is parsed from. */
  stdoutText: string;
  stdout: OutputExcerpt;
  stderr: OutputExcerpt;
}

/**
 * Turn what the container did into a result. Limits come first (a killed container's output is partial),
 * then the response; a non-zero exit with no valid response is a crash.
 */
export function interpretOutcome(o: ContainerOutcome): GradeResult {
  const streams = { exit_code: o.exitCode, ...(o.durationMs !== undefined ? { duration_ms: o.durationMs } : {}), stdout: o.stdout, stderr: o.stderr };
  if (o.timedOut) {
    return {
      success: false,
      reason: 'time_limit_exceeded',
      origin: 'student',
      error: `Time limit exceeded: the grading was stopped after ${o.timeLimitSeconds} s.`,
      ...streams,
    };
  }
  if (o.oomKilled) {
    return {
      success: false,
      reason: 'memory_limit_exceeded',
      origin: 'student',
      error: `Memory limit exceeded: the grading used more than ${o.memoryMb} MiB and was stopped.`,
      ...streams,
    };
  }
  if (o.outputLimitExceeded) {
    return {
      success: false,
      reason: 'output_limit_exceeded',
      origin: 'student',
      error: `Output limit exceeded: the grading printed more than ${o.outputLimitBytes} bytes and was stopped.`,
      ...streams,
    };
  }
  const parsed = parseCorrectomatic(o.stdoutText);
  if (parsed.ok) {
    const r = parsed.response;
    if (!r.success) {
      return {
        success: false,
        reason: 'grader_reported_error',
        origin: 'student',
        error: r.error ?? 'The grader reported an error.',
        ...(r.comments ? { comments: r.comments } : {}),
        ...streams,
      };
    }
    return {
      success: true,
      ...(r.grade !== undefined ? { grade: r.grade } : {}),
      ...(r.comments ? { comments: r.comments } : {}),
      ...streams,
    };
  }
  if (o.exitCode !== 0) {
    return {
      success: false,
      reason: 'crashed',
      origin: 'student',
      error: `The grading crashed with exit code ${o.exitCode} and gave no valid response (${parsed.problem}).`,
      ...streams,
    };
  }
  return {
    success: false,
    reason: 'invalid_response',
    origin: 'grader',
    error: `The grader's response is invalid: ${parsed.problem}.`,
    ...streams,
  };
}
