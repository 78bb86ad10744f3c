import { Type, type TSchema } from '@sinclair/typebox';
import type { PullPolicy } from '../../config/schema';
import { FORMAT_CHOICES } from '../grading-settings';
import { Nullable, StringEnum, Timestamp } from './common';

/** A field the platform may leave out: absent or null. */
const Settable = <T extends TSchema>(schema: T) => Type.Optional(Nullable(schema));

export const PULL_POLICY_CHOICES = ['if-missing', 'always', 'never'] as const satisfies readonly PullPolicy[];

/** A `max_grade`: a number above 0, or (as a form sends it) its decimal text. */
const MaxGradeSchema = Type.Union(
  [Type.Number({ exclusiveMinimum: 0, maximum: 1e9 }), Type.String({ pattern: '^\\+?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?$' })],
  { description: 'a number above 0 (at most 1e9)' },
);

/** PUT /v1/assignments/{id}: every setting optional; null leaves it unset. */
export const AssignmentBodySchema = Type.Object(
  {
    image: Settable(Type.String({ description: 'grader image for submissions that name none; allowed by the platform\'s `images`' })),
    flavour: Settable(Type.String({ description: 'a configured flavour (GET /v1/flavours)' })),
    pull_policy: Settable(StringEnum(PULL_POLICY_CHOICES, { description: 'when hosts pull the image' })),
    format: Settable(StringEnum(FORMAT_CHOICES, { description: 'how results are read' })),
    results_file: Settable(Type.String({ description: 'junit only: the results file inside the container' })),
    max_grade: Settable(MaxGradeSchema),
    repositories: Settable(
      Type.Array(Type.String(), {
        description: 'push-triggered grading: globs on a repository\'s path with namespace (e.g. "course/lab1-*"); needs `image` (docs/git-hooks.md)',
      }),
    ),
    branches: Settable(Type.Array(Type.String(), { description: "with repositories: the branches graded (globs); default the repository's default branch" })),
  },
  { additionalProperties: false },
);

export const AssignmentSchema = Type.Object(
  {
    assignment_id: Type.String(),
    image: Nullable(Type.String()),
    flavour: Nullable(Type.String()),
    pull_policy: Nullable(Type.String()),
    format: Nullable(Type.String()),
    results_file: Nullable(Type.String()),
    max_grade: Nullable(Type.Number()),
    repositories: Nullable(Type.Array(Type.String())),
    branches: Nullable(Type.Array(Type.String())),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { $id: 'Assignment', description: "an assignment's defaults for its submissions" },
);
