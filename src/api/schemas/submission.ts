import { Type } from '@sinclair/typebox';
import { GradeResultSchema } from '../../results/result-schema';
import { MAX_LIST_LIMIT } from '../list-query';
import { Nullable, StringEnum, Timestamp } from './common';

const PUBLIC_STATUSES = ['queued', 'running', 'delivering', 'completed', 'failed', 'cancelled'] as const;
const StatusSchema = Type.Union(PUBLIC_STATUSES.map((s) => Type.Literal(s)), {
  description: '`queued`, `running`, `delivering` (graded, the callback is being sent), `completed`, `failed`, `cancelled`',
});

const TimingsSchema = Type.Object({
  queued_at: Nullable(Timestamp),
  started_at: Nullable(Timestamp),
  graded_at: Nullable(Timestamp),
  delivered_at: Nullable(Timestamp),
});

const DeliverySchema = Type.Object(
  {
    webhook_id: Nullable(Type.String({ description: 'the `webhook-id` header the callback carried' })),
    status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed'), Type.Literal('superseded')]),
    tries: Type.Integer({ minimum: 0 }),
    last_status: Nullable(Type.Integer({ description: 'HTTP status of the last try' })),
    last_error: Nullable(Type.String()),
    delivered_at: Nullable(Timestamp),
  },
  { description: "the callback of an attempt to the platform's URL" },
);

export const AttemptSchema = Type.Object(
  {
    attempt: Type.Integer({ minimum: 1 }),
    host: Nullable(Type.String({ description: 'the grading host that ran it' })),
    image: Nullable(Type.String({ description: 'the image that graded it' })),
    image_digest: Nullable(Type.String({ description: 'its digest, when the reference is pinned' })),
    timings: TimingsSchema,
    success: Type.Boolean(),
    grade: Nullable(Type.Number()),
    max_grade: Nullable(Type.Number()),
    reason: Nullable(Type.String({ description: 'why it failed, when it did' })),
    delivery: Nullable(DeliverySchema),
  },
  { $id: 'Attempt', description: 'one grading of a submission (a regrade adds one)' },
);

const common = {
  id: Type.String({ description: "gradeflow's id of the submission (a UUID)" }),
  work_id: Nullable(Type.String({ description: "the platform's own id for the work, as it sent it" })),
  status: StatusSchema,
  attempt: Type.Integer({ minimum: 0, description: 'the latest attempt' }),
  image: Type.String({ description: 'the grader image, pinned to its digest when it is on a registry' }),
  flavour: Type.String(),
  assignment_id: Nullable(Type.String()),
  student_id: Nullable(Type.String()),
  course_id: Nullable(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
};

export const SubmissionSchema = Type.Object(
  {
    ...common,
    priority: Type.Integer({ minimum: 1, maximum: 5 }),
    file: Type.Object({ name: Type.String(), size: Type.Integer({ minimum: 0 }), sha256: Type.String() }),
    grading: Type.Object({
      format: Type.String(),
      results_file: Nullable(Type.String()),
      max_grade: Nullable(Type.Number()),
      pull_policy: Nullable(Type.String()),
    }),
    problem: Type.Optional(Type.String({ description: 'why an unfinished submission is not progressing (the stall watch\'s finding)' })),
    progress: Type.Optional(
      Type.Object(
        {
          phase: Type.String(),
          attempt: Type.Integer(),
          host: Nullable(Type.String()),
          timings: TimingsSchema,
          regrade_pending: Type.Boolean(),
        },
        { description: 'live, from the workflow, while it runs' },
      ),
    ),
    result: Nullable(Type.Ref(GradeResultSchema, { description: 'the latest attempt\'s result' })),
    attempts: Type.Array(Type.Ref(AttemptSchema)),
  },
  { $id: 'Submission', description: 'a submission with its attempts, deliveries and live progress' },
);

export const ListedSubmissionSchema = Type.Object(common, {
  $id: 'ListedSubmission',
  description: 'a submission in a list: its facts, without attempts (GET /v1/submissions/{id} has them)',
});

export const SubmissionListSchema = Type.Object({
  items: Type.Array(Type.Ref(ListedSubmissionSchema)),
  next_cursor: Nullable(Type.String({ description: 'pass it back as `cursor` for the next page; null on the last' })),
}, { description: 'a page of submissions, newest first' });

export const SubmissionAcceptedSchema = Type.Object({
  id: Type.String(),
  work_id: Nullable(Type.String()),
  status: StatusSchema,
  duplicate: Type.Boolean({ description: 'true when the same work_id with the same content was sent before (200)' }),
});

export const SubmissionRegradeAnswerSchema = Type.Object({
  id: Type.String(),
  work_id: Nullable(Type.String()),
  status: Type.Literal('queued'),
  previous_attempts: Type.Integer({ minimum: 0 }),
  image: Type.String(),
}, { description: 'queued: it is graded again (attempt + 1)' });

const submissionFields = {
  image: Type.Optional(Type.String({ description: 'grader image reference; allowed by the platform\'s `images`; may come from the assignment' })),
  work_id: Type.Optional(Type.String({ description: "the platform's id for the work (1–200 printable characters): a repeat with it is harmless" })),
  callback: Type.Optional(Type.String({ description: 'URL the signed result is POSTed to (Standard Webhooks)' })),
  flavour: Type.Optional(Type.String({ description: 'a configured flavour (GET /v1/flavours); default `default`' })),
  assignment_id: Type.Optional(Type.String()),
  student_id: Type.Optional(Type.String()),
  course_id: Type.Optional(Type.String()),
  format: Type.Optional(Type.String({ description: '`auto`, `correctomatic`, `gitlab`, `gradescope`, `junit`, `tap`' })),
  results_file: Type.Optional(Type.String({ description: 'junit only: the results file inside the container' })),
};

/** POST /v1/submissions as JSON: the file in base64. (Validated by the intake, which also reads forms.) */
export const SubmissionJsonSchema = Type.Object(
  {
    ...submissionFields,
    params: Type.Optional(
      Type.Union([Type.String({ description: '"k1=v1,k2=v2"' }), Type.Record(Type.String(), Type.String())], {
        description: 'environment variables for the grader: at most 64, names like environment variables, values ≤ 4096 characters',
      }),
    ),
    limits: Type.Optional(
      Type.Object(
        {
          cpus: Type.Optional(Type.Number()),
          memory_mb: Type.Optional(Type.Integer()),
          pids: Type.Optional(Type.Integer()),
          time_limit_seconds: Type.Optional(Type.Number()),
          output_limit_bytes: Type.Optional(Type.Integer()),
          tmpfs_mb: Type.Optional(Type.Integer()),
        },
        { additionalProperties: false, description: "tighter limits than the flavour's (never looser)" },
      ),
    ),
    max_grade: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: '1 (urgent) … 5' })),
    file: Type.Object({ name: Type.String({ description: 'a plain file name; .zip, .tar, .tar.gz are unpacked' }), content_base64: Type.String() }),
  },
  { additionalProperties: false },
);

/** POST /v1/submissions as a form: the same fields as text, `limits` and `params` as JSON or text, the file as a part. */
export const SubmissionFormSchema = Type.Object(
  {
    ...submissionFields,
    params: Type.Optional(Type.String({ description: '"k1=v1,k2=v2", or a JSON object of strings' })),
    limits: Type.Optional(Type.String({ description: 'a JSON object of limits' })),
    max_grade: Type.Optional(Type.String({ description: 'a decimal number above 0' })),
    priority: Type.Optional(Type.String({ description: '1 (urgent) … 5' })),
    file: Type.String({ contentMediaType: 'application/octet-stream', description: 'the submission: a file part with a filename' }),
  },
  { additionalProperties: false },
);

export const SubmissionRegradeBodySchema = Type.Object(
  {
    image: Type.Optional(Nullable(Type.String({ description: 'grade with this image from now on (allowed and pinned as at intake)' }))),
    priority: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 5, description: '1 (urgent) … 5; default `priorities.regrade`' }))),
  },
  { additionalProperties: false },
);

/** GET /v1/submissions: filters, a page size, the cursor of the page before. */
export const SubmissionListQuerySchema = Type.Object(
  {
    assignment_id: Type.Optional(Type.String()),
    student_id: Type.Optional(Type.String()),
    course_id: Type.Optional(Type.String()),
    status: Type.Optional(StringEnum(PUBLIC_STATUSES)),
    since: Type.Optional(Type.String({ description: 'ISO-8601 date or date-time: submissions created from then on' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIST_LIMIT, description: `page size, 1–${MAX_LIST_LIMIT} (default 50)` })),
    cursor: Type.Optional(Type.String({ maxLength: 512, description: 'the `next_cursor` of the page before' })),
  },
  { additionalProperties: false },
);
