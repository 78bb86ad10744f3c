import type { FailureOrigin, FailureReason, GradeResult } from './types';

/** A result that carries no grade: why (machine-readable), whose fault, and a sentence for people. Workflow-safe. */
export function failureResult(reason: FailureReason, origin: FailureOrigin, error: string, extra: Partial<GradeResult> = {}): GradeResult {
  return { success: false, comments: [], tests: [], ...extra, reason, origin, error };
}
