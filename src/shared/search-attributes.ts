import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes shown in the Temporal UI. The dev server allows only a few per type, so these
 * are all Keywords (it allows ten of those). `ensureSearchAttributes` registers them at start-up.
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
} as const;

export const SEARCH_ATTRIBUTE_NAMES: string[] = Object.values(SA).map((k) => k.name);
