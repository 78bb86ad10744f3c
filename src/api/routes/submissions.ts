import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PlatformConfig } from '../../config/schema';
import { submissionWorkflowId } from '../../shared/workflow-ids';
import type { Submission } from '../../store/submissions';
import type { AppDeps } from '../app';
import { createPlatformAuth } from '../auth';
import { ApiError, invalid } from '../errors';
import { validateSubmission, type RawSubmission, type ValidSubmission } from '../intake';
import { presentSubmission } from '../present';
import { withSmallFile } from '../workflow-input';
import { registerAssignmentRoutes } from './assignments';

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Read a multipart or JSON body into the raw fields; the file as bytes. */
async function readSubmissionBody(req: FastifyRequest): Promise<RawSubmission> {
  if (req.isMultipart()) {
    const raw: Record<string, unknown> = {};
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') throw invalid(part.fieldname, 'is not a file field; send the file as "file"');
        raw.file = { name: part.filename, content: await part.toBuffer() };
      } else {
        raw[part.fieldname] = part.value;
      }
    }
    return raw as RawSubmission;
  }
  const body = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(400, 'invalid_json', 'send a JSON object or multipart/form-data');
  }
  const { file, ...fields } = body as Record<string, unknown>;
  if (file === undefined) return fields;
  if (typeof file !== 'object' || file === null) throw invalid('file', 'must be {name, content_base64}');
  const { name, content_base64: b64 } = file as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') throw invalid('file.name', 'is required');
  if (typeof b64 !== 'string') throw invalid('file.content_base64', 'is required');
  const compact = b64.replace(/\s+/g, '');
  if (compact.length % 4 === 1 || !BASE64_RE.test(compact)) throw invalid('file.content_base64', 'is not valid base64');
  return { ...fields, file: { name, content: Buffer.from(compact, 'base64') } };
}

/** Whether a repeated POST with the same work_id describes the same submission. */
function sameSubmission(a: Submission, b: ValidSubmission): boolean {
  return (
    a.image === b.image &&
    a.flavour === b.flavour &&
    a.file.sha256 === b.file.sha256 &&
    (a.callbackUrl ?? undefined) === b.callbackUrl &&
    isDeepStrictEqual(a.limits, b.limits) &&
    isDeepStrictEqual(a.grading, b.grading)
  );
}

export function registerSubmissionRoutes(app: FastifyInstance, deps: AppDeps): void {
  const authenticate = createPlatformAuth(deps.config.platforms);
  const platformOf = new WeakMap<FastifyRequest, PlatformConfig>();
  const platform = (req: FastifyRequest): PlatformConfig => platformOf.get(req)!;

  app.register(async (v1) => {
    v1.addHook('onRequest', async (req) => {
      platformOf.set(req, authenticate(req));
    });
    registerAssignmentRoutes(v1, deps, platform);

    v1.post('/v1/submissions', async (req, reply) => {
      const p = platform(req);
      const raw = await readSubmissionBody(req);
      // The assignment's defaults, when the platform has set some (one lookup; none without an assignment_id).
      const assignment = typeof raw.assignment_id === 'string' && raw.assignment_id !== '' ? await deps.assignments.get(p.id, raw.assignment_id) : undefined;
      const valid = await validateSubmission(raw, p, deps.config, assignment?.settings);
      const id = randomUUID();
      const { submission, created } = await deps.store.create({
        id,
        platformId: p.id,
        workflowId: submissionWorkflowId(p.id, valid.workId ?? id),
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
      if (submission.status === 'received') deps.starter.enqueue(created ? withSmallFile(submission, valid.file.content) : submission);
      return reply.status(created ? 202 : 200).send({
        id: submission.id,
        work_id: submission.workId,
        status: created || submission.status === 'received' ? 'queued' : submission.status,
        duplicate: !created,
      });
    });

    v1.get<{ Params: { id: string } }>('/v1/submissions/:id', async (req) => {
      const sub = await findSubmission(deps, platform(req), req.params.id);
      const [attempts, deliveries, progress] = await Promise.all([
        deps.store.attempts(sub.id),
        deps.store.deliveries(sub.id),
        deps.grading.progress(sub).catch(() => undefined),
      ]);
      return presentSubmission(sub, attempts, deliveries, progress);
    });

    v1.post<{ Params: { id: string } }>('/v1/submissions/:id/regrade', async (req, reply) => {
      const p = platform(req);
      const sub = await findSubmission(deps, p, req.params.id);
      await deps.grading.regrade(sub, p.id);
      return reply.status(202).send({ id: sub.id, work_id: sub.workId, status: 'queued', previous_attempts: sub.attempts });
    });
  });
}

async function findSubmission(deps: AppDeps, platform: PlatformConfig, id: string): Promise<Submission> {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const sub = uuid.test(id) ? await deps.store.get(platform.id, id.toLowerCase()) : undefined;
  if (!sub) throw new ApiError(404, 'not_found', `no submission ${id}`);
  return sub;
}
