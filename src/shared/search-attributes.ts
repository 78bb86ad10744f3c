import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes shown in the Temporal UI. The dev server allows only a few per type, so these
 * are all Keywords (it allows ten of those, and these are ten: a new one needs another type, or one of
 * these dropped). `ensureSearchAttributes` registers them at start-up; docker-compose.yml lists them too.
 * Phase, host and outcome say how a grading goes, never what it graded (no grade, code or output).
 */
export const SA = {
  platform: defineSearchAttributeKey('GradeflowPlatform', SearchAttributeType.KEYWORD),
  workId: defineSearchAttributeKey('GradeflowWorkId', SearchAttributeType.KEYWORD),
  assignment: defineSearchAttributeKey('GradeflowAssignment', SearchAttributeType.KEYWORD),
  student: defineSearchAttributeKey('GradeflowStudent', SearchAttributeType.KEYWORD),
  course: defineSearchAttributeKey('GradeflowCourse', SearchAttributeType.KEYWORD),
  flavour: defineSearchAttributeKey('GradeflowFlavour', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('GradeflowPhase', SearchAttributeType.KEYWORD),
  host: defineSearchAttributeKey('GradeflowHost', SearchAttributeType.KEYWORD),
  /** The latest recorded attempt's outcome: `graded`, or its failure reason (`time_limit_exceeded`, `infrastructure_error`, …). */
  reason: defineSearchAttributeKey('GradeflowReason', SearchAttributeType.KEYWORD),
  /** Whose failure it was (`student`, `grader`, `infrastructure`, `operator`); absent when graded. */
  origin: defineSearchAttributeKey('GradeflowOrigin', SearchAttributeType.KEYWORD),
} as const;

export const SEARCH_ATTRIBUTE_NAMES: string[] = Object.values(SA).map((k) => k.name);
