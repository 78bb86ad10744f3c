import { Type, type Static } from '@sinclair/typebox';

/**
 * The normalized result of one grading attempt, whatever format the grader printed. This TypeBox schema
 * is the source of truth: the TypeScript types below are derived from it, and `schemas/grade-result.schema.json`
 * (published at GET /v1/schemas/grade-result) is generated from it (`npm run schemas`; a test keeps them equal).
 */

const VisibilitySchema = Type.Union(
  [Type.Literal('visible'), Type.Literal('hidden'), Type.Literal('after_due_date'), Type.Literal('after_published')],
  { description: "who may see it, Gradescope's values: visible (default), hidden, after_due_date, after_published" },
);

const OutputFormatSchema = Type.String({
  maxLength: 32,
  description: "how the grader asked for its text to be rendered, as it gave it (Gradescope: text, html, simple_format, md, ansi)",
});

const LeaderboardEntrySchema = Type.Object(
  {
    name: Type.String({ maxLength: 256 }),
    value: Type.Union([Type.Number(), Type.String({ maxLength: 1024 })]),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  },
  { additionalProperties: false, description: "one value for the assignment's leaderboard (Gradescope)" },
);

/** What a grader reported beyond grade and tests, kept for the platform (Gradescope's fields). */
const GraderExtras = {
  grade_visibility: Type.Optional(
    Type.Union([Type.Literal('hidden'), Type.Literal('after_due_date'), Type.Literal('after_published')], {
      description:
        'when the student may see the grade (the total), when not at once: Gradescope hides it while any test is hidden ' +
        "(the results' own visibility, or a test's); the platform should do the same",
    }),
  ),
  output_format: Type.Optional(OutputFormatSchema),
  execution_time: Type.Optional(Type.Number({ minimum: 0, description: 'seconds the grader says it ran (Gradescope execution_time)' })),
  extra_data: Type.Optional(Type.Unknown({ description: 'anything the grader stored with the results, as it gave it (Gradescope)' })),
  leaderboard: Type.Optional(Type.Array(LeaderboardEntrySchema, { maxItems: 64 })),
};

const TestStatusSchema = Type.Union([Type.Literal('passed'), Type.Literal('failed'), Type.Literal('error'), Type.Literal('skipped')], {
  description: 'passed; failed (an assertion); error (the test itself broke); skipped (not run, earns nothing)',
});

export const TestResultSchema = Type.Object(
  {
    name: Type.String({ maxLength: 1024, description: 'test name as the grader reported it' }),
    score: Type.Number({ description: 'points earned' }),
    max_score: Type.Number({ minimum: 0, description: 'points available' }),
    status: TestStatusSchema,
    output: Type.Optional(Type.String({ description: 'what the test reported (assertion message, diff, …)' })),
    visibility: Type.Optional(VisibilitySchema),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 64 })),
    number: Type.Optional(Type.String({ maxLength: 64, description: "the test's number as the grader gave it (Gradescope's \"1.2\"); tests are listed in its order" })),
    output_format: Type.Optional(OutputFormatSchema),
    extra_data: Type.Optional(Type.Unknown({ description: 'anything the grader stored with the test, as it gave it (Gradescope)' })),
  },
  { additionalProperties: false },
);

const FeedbackSchema = Type.Object(
  {
    format: Type.Union([Type.Literal('text'), Type.Literal('markdown')]),
    content: Type.String(),
  },
  { additionalProperties: false, description: 'text or markdown for the student' },
);

const OutputExcerptSchema = Type.Object(
  {
    text: Type.String({ description: 'the start of the stream (32 KiB at most), invalid UTF-8 replaced' }),
    bytes: Type.Integer({ minimum: 0, description: 'bytes the stream had in all' }),
    truncated: Type.Boolean({ description: 'true when text is not the whole stream' }),
  },
  { additionalProperties: false },
);

const ResultFormatSchema = Type.Union(
  [Type.Literal('correctomatic'), Type.Literal('gitlab'), Type.Literal('gradescope'), Type.Literal('junit'), Type.Literal('tap')],
  { description: 'the grader output format the result was parsed from' },
);

const FailureReasonSchema = Type.Union([
  Type.Literal('time_limit_exceeded'),
  Type.Literal('memory_limit_exceeded'),
  Type.Literal('output_limit_exceeded'),
  Type.Literal('crashed'),
  Type.Literal('invalid_submission'),
  Type.Literal('invalid_response'),
  Type.Literal('grader_reported_error'),
  Type.Literal('infrastructure_error'),
  Type.Literal('cancelled'),
]);

const FailureOriginSchema = Type.Union(
  [Type.Literal('student'), Type.Literal('grader'), Type.Literal('infrastructure'), Type.Literal('operator')],
  { description: "whose a failure is: the student's code, the instructor's grader, gradeflow's infrastructure, an operator" },
);

export const GradeResultSchema = Type.Object(
  {
    success: Type.Boolean({ description: 'true when the grader produced a grade' }),
    grade: Type.Optional(Type.Number({ description: 'the grade; on success with tests and no grade of its own, the sum of their scores' })),
    max_grade: Type.Optional(Type.Number({ minimum: 0, description: 'the most the grade can be, when known' })),
    comments: Type.Array(Type.String(), { description: 'short feedback lines for the student' }),
    tests: Type.Array(TestResultSchema, { description: 'one entry per test the grader reported' }),
    feedback: Type.Optional(FeedbackSchema),
    stdout_visibility: Type.Optional(VisibilitySchema),
    ...GraderExtras,
    format: Type.Optional(ResultFormatSchema),
    error: Type.Optional(Type.String({ description: 'human-readable, when success is false' })),
    reason: Type.Optional(FailureReasonSchema),
    origin: Type.Optional(FailureOriginSchema),
    exit_code: Type.Optional(Type.Integer()),
    duration_ms: Type.Optional(Type.Number({ minimum: 0, description: 'how long the container ran' })),
    stdout: Type.Optional(OutputExcerptSchema),
    stderr: Type.Optional(OutputExcerptSchema),
  },
  {
    $id: 'https://gradeflow.dev/schemas/grade-result.schema.json',
    title: 'gradeflow grade result',
    description: 'The normalized result of one grading attempt, whatever format the grader used.',
    additionalProperties: false,
  },
);

export const CallbackBodySchema = Type.Object(
  {
    success: Type.Boolean(),
    work_id: Type.Union([Type.String(), Type.Null()], { description: "the platform's own id for the work, as it sent it" }),
    submission_id: Type.String({ description: "gradeflow's id of the submission" }),
    attempt: Type.Integer({ minimum: 1, description: 'which grading of the submission this is (regrades count up)' }),
    grade: Type.Optional(Type.Number()),
    max_grade: Type.Optional(Type.Number({ minimum: 0 })),
    comments: Type.Array(Type.String()),
    tests: Type.Array(TestResultSchema),
    feedback: Type.Optional(FeedbackSchema),
    stdout_visibility: Type.Optional(VisibilitySchema),
    ...GraderExtras,
    format: Type.Optional(ResultFormatSchema),
    error: Type.Optional(Type.String()),
    reason: Type.Optional(FailureReasonSchema),
    origin: Type.Optional(FailureOriginSchema),
    image: Type.Optional(Type.String({ description: 'the grader image that graded this attempt (as GET shows it in the attempt); absent in callbacks of runs started before it was sent' })),
    image_digest: Type.Optional(
      Type.Union([Type.String(), Type.Null()], { description: "the digest `image` is pinned to (registry images are pinned at intake), null for a local image or tag" }),
    ),
  },
  {
    $id: 'https://gradeflow.dev/schemas/callback-body.schema.json',
    title: 'gradeflow callback body',
    description:
      "What gradeflow POSTs to a platform's callback URL, signed (Standard Webhooks). A superset of correctomatic's body " +
      '(success, work_id, grade, comments, error): receivers written for it keep working. Output excerpts stay in the API.',
    additionalProperties: false,
  },
);

export type Visibility = Static<typeof VisibilitySchema>;
export type TestStatus = Static<typeof TestStatusSchema>;
export type TestResult = Static<typeof TestResultSchema>;
export type LeaderboardEntry = Static<typeof LeaderboardEntrySchema>;
export type Feedback = Static<typeof FeedbackSchema>;
export type OutputExcerpt = Static<typeof OutputExcerptSchema>;
export type ResultFormat = Static<typeof ResultFormatSchema>;
export type FailureReason = Static<typeof FailureReasonSchema>;
export type FailureOrigin = Static<typeof FailureOriginSchema>;
export type GradeResult = Static<typeof GradeResultSchema>;
export type CallbackBody = Static<typeof CallbackBodySchema>;
