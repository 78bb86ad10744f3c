import { Type } from '@sinclair/typebox';
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GradeflowConfig, PlatformConfig } from '../../config/schema';
import { inlineBytes } from '../../control/workflow-input';
import { registryDomain } from '../../registry/registries';
import { pinImage, RegistryResolveError } from '../../registry/resolve-digest';
import { parseImageReference } from '../../security/image-reference';
import { publicStatus } from '../../shared/status';
import { submissionWorkflowId } from '../../shared/workflow-ids';
import type { Submission } from '../../store/submissions';
import { platformOf } from '../auth';
import type { AppDeps } from '../deps';
import { ApiError, invalid } from '../errors';
import { isAbsent, isPlainObject } from '../fields';
import { checkImageAllowed, validateSubmission, type RawSubmission, type ValidSubmission } from '../intake';
import { encodeCursor, parseListQuery } from '../list-query';
import { Problems } from '../problems';
import { errorResponses, IdParams, optionalBodyMark, platformSecurity, TAGS } from '../schemas/common';
import {
  SubmissionAcceptedSchema,
  SubmissionFormSchema,
  SubmissionJsonSchema,
  SubmissionListQuerySchema,
  SubmissionListSchema,
  SubmissionRegradeAnswerSchema,
  SubmissionRegradeBodySchema,
  SubmissionSchema,
} from '../schemas/submission';
import { bodyValidatedByHandler } from '../schemas/validation';
import { checkUnfinishedCap } from '../rate-limit';
import { presentListedSubmission, presentSubmission } from '../present';
import { submissionsAccepted } from '../../metrics/server-metrics';

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Every field a submission may have. Anything else is refused: a typo (`calback`) must not drop a field silently. */
const SUBMISSION_FIELDS = [
  'image', 'work_id', 'callback', 'params', 'flavour', 'assignment_id', 'student_id', 'course_id',
  'limits', 'format', 'results_file', 'max_grade', 'priority', 'file',
] as const satisfies ReadonlyArray<keyof RawSubmission>;
// Compile-time: a field added to RawSubmission must be added here too.
const allListed: [Exclude<keyof RawSubmission, (typeof SUBMISSION_FIELDS)[number]>] extends [never] ? true : never = true;
void allListed;
const KNOWN_FIELDS: ReadonlySet<string> = new Set(SUBMISSION_FIELDS);

/**
 * The largest multipart field a valid submission has: `params`, 64 entries of a name (≤ 128) and a value of
 * ≤ 4,096 characters (≤ 3 bytes each in UTF-8), with separators and JSON's quotes and braces. A longer
 * field is refused (413 naming it), never cut.
 */
export const MAX_FIELD_BYTES = 64 * (128 + 4096 * 3 + 8) + 4096;

/** A lone UTF-16 surrogate (with the u flag, a well-formed pair is one code point and does not match). */
const LONE_SURROGATE_RE = /\p{Cs}/u;

/**
 * JSON can carry text that is not Unicode (a lone surrogate, `"\ud800"`), which the database refuses
 * (a 500 before): refused here, naming the field. (Multipart text is decoded from UTF-8, always well
 * formed, but an application/json part is JSON.)
 */
function checkWellFormed(value: unknown, field: string, depth = 0): void {
  if (typeof value === 'string') {
    if (LONE_SURROGATE_RE.test(value)) throw invalid(field, 'contains text that is not valid Unicode (a lone surrogate)');
  } else if (typeof value === 'object' && value !== null && depth < 4) {
    for (const [k, v] of Object.entries(value)) {
      checkWellFormed(k, field, depth + 1);
      checkWellFormed(v, field, depth + 1);
    }
  }
}

function unknownField(name: string): ApiError {
  return invalid(name, `is not a submission field; the fields are ${SUBMISSION_FIELDS.join(', ')}`);
}

/**
 * A failure while reading a multipart body. Our own refusals and @fastify/multipart's coded errors pass
 * (the error handler maps those); busboy's errors about the framing (no boundary, no closing boundary,
 * garbage) carry no code and are the client's: 400.
 */
function multipartFailure(err: unknown): unknown {
  if (err instanceof ApiError) return err;
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && e.code.startsWith('FST_')) return err;
  if (err instanceof Error && !(err instanceof TypeError) && !(err instanceof RangeError) && e.statusCode === undefined) {
    return new ApiError(400, 'invalid_multipart', `the multipart body is malformed: ${err.message}`);
  }
  return err;
}

/**
 * Read a multipart or JSON body into the raw fields; the file as bytes. Refusals of single fields (an
 * unknown or repeated field, text that is not Unicode, a malformed JSON `file`) are gathered in `problems`
 * and answered with the fields' own checks; a body that cannot be read at all is refused at once.
 */
async function readSubmissionBody(req: FastifyRequest, maxFileBytes: number, problems: Problems): Promise<RawSubmission> {
  if (req.isMultipart()) {
    const raw: Record<string, unknown> = {};
    const seen = new Set<string>();
    try {
      for await (const part of req.parts()) {
        const name = part.fieldname;
        if (part.type === 'file') {
          // A file part is refused at once: its bytes are still in the stream.
          if (!KNOWN_FIELDS.has(name)) throw unknownField(name);
          if (seen.has(name)) throw invalid(name, 'is sent more than once');
          seen.add(name);
          if (name !== 'file') throw invalid(name, 'is not a file field; send the file as "file"');
          const content = await part.toBuffer();
          if (!Buffer.isBuffer(content)) throw invalid('file', 'must be a file part');
          raw.file = { name: part.filename, content };
        } else {
          // A text part, or an application/json part (parsed into a value): never the file. Read whole already.
          if (!KNOWN_FIELDS.has(name)) {
            problems.record(unknownField(name));
            continue;
          }
          if (seen.has(name)) {
            problems.record(invalid(name, 'is sent more than once'));
            continue;
          }
          seen.add(name);
          if (name === 'file') throw invalid('file', 'must be a file part (a part with a filename), not a text field');
          if (part.valueTruncated) {
            throw new ApiError(413, 'too_large', `${name} is longer than the limit of ${MAX_FIELD_BYTES} bytes`, name);
          }
          problems.check(name, () => checkWellFormed(part.value, name)); // an application/json part can carry "\ud800"
          if (!problems.has(name)) raw[name] = part.value;
        }
      }
    } catch (err) {
      throw multipartFailure(err);
    }
    return raw as RawSubmission;
  }
  const body = req.body;
  if (!isPlainObject(body)) throw new ApiError(400, 'invalid_json', 'send a JSON object or multipart/form-data');
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (!KNOWN_FIELDS.has(key)) problems.record(unknownField(key));
    else if (key !== 'file') {
      problems.check(key, () => checkWellFormed(value, key));
      if (!problems.has(key)) fields[key] = value;
    }
  }
  const file = problems.check('file', () => jsonFile(body.file, maxFileBytes));
  return file ? { ...fields, file } : fields;
}

/** A JSON submission's `file`: `{name, content_base64}`, decoded. */
function jsonFile(file: unknown, maxFileBytes: number): RawSubmission['file'] {
  if (file === undefined) return undefined;
  if (!isPlainObject(file)) throw invalid('file', 'must be {name, content_base64}');
  const { name, content_base64: b64 } = file;
  if (typeof name !== 'string' || name === '') throw invalid('file.name', 'is required');
  checkWellFormed(name, 'file.name');
  if (typeof b64 !== 'string') throw invalid('file.content_base64', 'is required');
  const compact = b64.replace(/\s+/g, '');
  if (compact.length % 4 === 1 || !BASE64_RE.test(compact)) throw invalid('file.content_base64', 'is not valid base64');
  const content = Buffer.from(compact, 'base64');
  // Refused as a multipart file over the limit is: 413.
  if (content.length > maxFileBytes) throw new ApiError(413, 'too_large', `file is larger than the limit of ${maxFileBytes} bytes`, 'file');
  return { name, content };
}

/**
 * The image a submission runs: a registry tag resolved to its digest now (src/registry/resolve-digest.ts).
 * The registry has no such image: 400. The registry is down or refuses us: 503 with Retry-After, nothing
 * stored: the platform sends the submission again (with its work_id, a repeat is harmless).
 */
export async function pinnedImage(image: string, config: GradeflowConfig): Promise<string> {
  try {
    return await pinImage(image, config.registries, config.registryTimeoutMs);
  } catch (err) {
    if (!(err instanceof RegistryResolveError)) throw err;
    if (err.kind === 'not_found') throw new ApiError(400, 'image_not_found', err.message, 'image');
    throw new ApiError(503, 'registry_unavailable', `${err.message}; nothing was stored, send the submission again later`, 'image', REGISTRY_RETRY_AFTER_S);
  }
}

const REGISTRY_RETRY_AFTER_S = 30;

/**
 * The same image for a repeat: equal, or both pinned in the same repository (the tag the repeat named
 * moved since the first POST: the first one's digest stands).
 */
function sameImage(stored: string, repeat: string): boolean {
  if (stored === repeat) return true;
  const a = parseImageReference(stored);
  const b = parseImageReference(repeat);
  return a?.kind === 'named' && b?.kind === 'named' && !!a.digest && !!b.digest && a.repository === b.repository && registryDomain(repeat) !== undefined;
}

/** Whether a repeated POST with the same work_id describes the same submission. */
function sameSubmission(a: Submission, b: ValidSubmission): boolean {
  return (
    sameImage(a.image, b.image) &&
    a.flavour === b.flavour &&
    a.file.sha256 === b.file.sha256 &&
    (a.callbackUrl ?? undefined) === b.callbackUrl &&
    isDeepStrictEqual(a.limits, b.limits) &&
    isDeepStrictEqual(a.grading, b.grading) &&
    isDeepStrictEqual(a.params, b.params) &&
    (a.assignmentId ?? undefined) === b.assignmentId &&
    (a.studentId ?? undefined) === b.studentId &&
    (a.courseId ?? undefined) === b.courseId
  );
}

type SubmissionDeps = Pick<AppDeps, 'config' | 'store' | 'assignments' | 'workflows' | 'owned' | 'starter' | 'search'>;

/** The fields a regrade may have (per submission; the assignment regrade has more). */
const REGRADE_FIELDS = ['image', 'priority'] as const;

/**
 * A regrade's image: allowed for the platform and pinned as at intake (src/security/image-policy.ts,
 * src/registry/resolve-digest.ts); undefined when the request names none.
 */
export async function regradeImage(value: unknown, platform: PlatformConfig, config: GradeflowConfig): Promise<string | undefined> {
  if (isAbsent(value)) return undefined;
  return pinnedImage(checkImageAllowed(value, platform), config);
}

/** `priority`, 1 (urgent) … 5: the regrade's grading waits at it (absent: `priorities.regrade`, below live work). */
export function regradePriority(value: unknown): number | undefined {
  if (isAbsent(value)) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 5) throw invalid('priority', 'must be an integer from 1 (urgent) to 5');
  return value;
}

/** A POST body that may be empty (no body at all) or a JSON object with only `fields`. */
export function optionalBody(body: unknown, fields: readonly string[]): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (!isPlainObject(body)) throw new ApiError(400, 'invalid_json', 'send a JSON object');
  for (const key of Object.keys(body)) if (!fields.includes(key)) throw invalid(key, `is not a field here; the fields are ${fields.join(', ')}`);
  return body;
}

/** POST /v1/submissions, GET /v1/submissions/:id, POST /v1/submissions/:id/regrade (under `buildApp`'s auth hook). */
export function registerSubmissionRoutes(v1: FastifyInstance, deps: SubmissionDeps): void {
  v1.post('/v1/submissions', {
    schema: {
      summary: 'Submit work to be graded',
      description:
        'A multipart form (`file` as a file part, the other fields as text) or JSON (`file: {name, content_base64}`). 202 when accepted; the same `work_id` with the same content again: 200 with the same id; with different content: 409. Every bad field is listed in one 400 (`fields`). An image on a registry is pinned to its digest here.',
      tags: [TAGS.submissions],
      security: platformSecurity,
      body: {
        content: {
          'multipart/form-data': { schema: SubmissionFormSchema },
          'application/json': { schema: SubmissionJsonSchema },
        },
      },
      response: {
        200: { ...SubmissionAcceptedSchema, description: 'a repeat of an accepted submission (same work_id, same content)' },
        202: { ...SubmissionAcceptedSchema, description: 'accepted; it will be graded' },
        ...errorResponses(400, 401, 403, 409, 413, 415, 503),
      },
    },
    // A multipart body is a stream the intake reads (src/api/intake.ts checks both forms alike).
    validatorCompiler: bodyValidatedByHandler,
  }, async (req, reply) => {
    const p = platformOf(req);
    const problems = new Problems();
    const raw = await readSubmissionBody(req, deps.config.api.maxFileBytes, problems);
    // The assignment's defaults, when the platform has set some (one lookup; none without an assignment_id).
    const assignment = typeof raw.assignment_id === 'string' && raw.assignment_id !== '' ? await deps.assignments.get(p.id, raw.assignment_id) : undefined;
    const valid = await validateSubmission(raw, p, deps.config, assignment?.settings, problems);
    valid.image = await pinnedImage(valid.image, deps.config);
    await checkUnfinishedCap(deps.store, p, valid.workId);
    const id = randomUUID();
    const { submission, created } = await deps.store.create({
      id,
      platformId: p.id,
      // A platform whose work_ids may carry names has its workflows named by gradeflow's id (privacy).
      workflowId: submissionWorkflowId(p.id, { id, workId: p.workflowIds === 'gradeflow_id' ? null : valid.workId }),
      ...valid,
    });
    if (!created && !sameSubmission(submission, valid)) {
      throw new ApiError(
        409,
        'work_id_conflict',
        `work_id "${valid.workId}" was already used for a different submission (${submission.id}); send a new work_id, or ask for a regrade`,
        'work_id',
      );
    }
    // Accepted once stored; the workflow starts in the background (also for a repeat whose start never
    // happened: the first POST may have stored the row and died before it).
    if (created) submissionsAccepted.inc({ platform: p.id });
    if (submission.status === 'received') deps.starter.enqueue(submission, created ? inlineBytes(valid.file.content, deps.config) : undefined);
    return reply.status(created ? 202 : 200).send({
      id: submission.id,
      work_id: submission.workId,
      status: publicStatus(created ? 'received' : submission.status),
      duplicate: !created,
    });
  });

  const params = IdParams("the submission's id (a UUID)");
  v1.get<{ Params: { id: string } }>('/v1/submissions/:id', {
    schema: {
      summary: 'A submission: status, progress, result, attempts',
      tags: [TAGS.submissions],
      security: platformSecurity,
      params,
      response: { 200: Type.Ref(SubmissionSchema), ...errorResponses(401, 404) },
    },
  }, async (req) => {
    const sub = await findSubmission(deps, platformOf(req), req.params.id);
    const [attempts, deliveries, progress, redeliveries] = await Promise.all([
      deps.store.attempts(sub.id),
      deps.store.deliveries(sub.id),
      deps.workflows.progress(sub).catch(() => undefined),
      deps.store.redeliveries(sub.id),
    ]);
    return presentSubmission(sub, attempts, deliveries, progress, redeliveries);
  });

  v1.get('/v1/submissions', {
    schema: {
      summary: "The platform's submissions, newest first, in pages",
      tags: [TAGS.submissions],
      security: platformSecurity,
      querystring: SubmissionListQuerySchema,
      response: { 200: SubmissionListSchema, ...errorResponses(400, 401) },
    },
  }, async (req) => {
    const q = parseListQuery(req.query);
    const { items, next } = await deps.search.list(platformOf(req).id, q.filter, q.limit, q.cursor);
    return { items: items.map(presentListedSubmission), next_cursor: next ? encodeCursor(next) : null };
  });

  v1.post<{ Params: { id: string } }>('/v1/submissions/:id/regrade', {
    schema: {
      summary: 'Grade a submission again',
      description: 'A new attempt, whether it is running or long finished; with `image`, that attempt and later ones use it. The body is optional.',
      tags: [TAGS.submissions],
      security: platformSecurity,
      params,
      body: SubmissionRegradeBodySchema,
      ...optionalBodyMark,
      response: { 202: SubmissionRegradeAnswerSchema, ...errorResponses(400, 401, 403, 404, 503) },
    },
  }, async (req, reply) => {
    const p = platformOf(req);
    const body = optionalBody(req.body, REGRADE_FIELDS);
    const sub = await findSubmission(deps, p, req.params.id);
    const image = await regradeImage(body.image, p, deps.config);
    const priority = regradePriority(body.priority);
    // A new image grades this submission from now on: stored, so that a later regrade (or a new run) uses it too.
    if (!(await deps.store.claimForRegrade(sub.id))) throw new ApiError(409, 'submission_pruned', `submission ${sub.id} finished long ago and its file was removed (gradeflow prune): it cannot be regraded; submit it again`);
    if (image !== undefined && image !== sub.image) await deps.store.setImage(sub.id, image);
    await deps.owned.regrade(image !== undefined ? { ...sub, image } : sub, p.id, {
      ...(image !== undefined ? { image } : {}),
      ...(priority !== undefined ? { priority } : {}),
    });
    return reply.status(202).send({
      id: sub.id,
      work_id: sub.workId,
      status: 'queued',
      previous_attempts: sub.attempts,
      image: image ?? sub.image,
    });
  });
}

/** The platform's submission by id, or 404. */
export async function findSubmission(deps: Pick<AppDeps, 'store'>, platform: PlatformConfig, id: string): Promise<Submission> {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const sub = uuid.test(id) ? await deps.store.get(platform.id, id.toLowerCase()) : undefined;
  if (!sub) throw new ApiError(404, 'not_found', `no submission ${id}`);
  return sub;
}
