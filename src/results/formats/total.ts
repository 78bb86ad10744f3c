import type { GraderOutput, ParseOutcome } from './types';

/** An exception's message, short, whatever was thrown. */
export function describeError(err: unknown): string {
  try {
    const message = err instanceof Error ? err.message : String(err);
    return message.slice(0, 200) || 'unknown error';
  } catch {
    return 'unknown error';
  }
}

/**
 * A parser's last line of defence: an exception that escapes `parse` (none is expected) becomes a problem
 * naming what could not be read, so every parser is total.
 */
export function total(what: string, parse: (output: GraderOutput) => ParseOutcome): (output: GraderOutput) => ParseOutcome {
  return (output) => {
    try {
      return parse(output);
    } catch (err) {
      return { ok: false, problem: `${what} could not be read (${describeError(err)})` };
    }
  };
}
