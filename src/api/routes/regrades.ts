import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { parseRegradeApiId, regradeApiId, type RegradeControl, type RegradeStatus } from '../../control/assignment-regrades';
import type { RegradeScope } from '../../store/regrades';
import { platformOf } from '../auth';
import type { AppDeps } from '../deps';
import { ApiError, invalid } from '../errors';
import { isAbsent } from '../fields';
import { checkId } from '../intake';
import { errorResponses, IdParams, optionalBodyMark, platformSecurity, TAGS } from '../schemas/common';
import { assignmentRegradeBody, RegradeProgressSchema, RegradeSignalledSchema, RegradeStartedSchema } from '../schemas/regrade';
import { optionalBody, regradeImage, regradePriority } from './submissions';

const FIELDS = ['image', 'scope', 'student_ids', 'reason', 'priority', 'update_assignment'] as const;
const SCOPES: readonly RegradeScope[] = ['latest', 'all'];
const MAX_REASON = 1000;

function parseScope(value: unknown): RegradeScope {
  if (isAbsent(value)) return 'latest';
  if (typeof value !== 'string' || !(SCOPES as readonly string[]).includes(value)) throw invalid('scope', `must be one of ${SCOPES.join(', ')}`);
  return value as RegradeScope;
}

function parseStudentIds(value: unknown, max: number): string[] | null {
  if (isAbsent(value)) return null;
  if (!Array.isArray(value) || value.length === 0) throw invalid('student_ids', 'must be a non-empty array of student ids');
  if (value.length > max) throw invalid('student_ids', `lists more than ${max} students; regrade the whole assignment, or in parts`);
  return [...new Set(value.map((v, i) => checkId(v, `student_ids[${i}]`)))];
}

function parseReason(value: unknown): string | null {
  if (isAbsent(value)) return null;
  if (typeof value !== 'string' || value.length > MAX_REASON) throw invalid('reason', `must be text of at most ${MAX_REASON} characters`);
  return value;
}

function presentStatus(id: string, assignmentId: string, seq: number, s: RegradeStatus) {
  return {
    regrade_id: id,
    assignment_id: assignmentId,
    n: seq,
    status: s.status,
    total: s.total,
    done: s.done,
    failed: s.failed,
    running: s.running,
    changed: s.changed,
    paused: s.paused,
    cancelled: s.cancelled,
    finished: s.finished,
  };
}

/**
 * Assignment regrades: `POST /v1/assignments/:id/regrade` starts one (202 `{regrade_id}`), `GET
 * /v1/regrades/:id` answers its progress, `POST /v1/regrades/:id/pause|resume|cancel` (a route each) steer it. A platform
 * sees only its own (the id is looked up under the caller's platform).
 */
export function registerRegradeRoutes(v1: FastifyInstance, deps: Pick<AppDeps, 'config' | 'assignments' | 'search' | 'regrades'>): void {
  v1.post<{ Params: { id: string } }>('/v1/assignments/:id/regrade', {
    schema: {
      summary: 'Regrade an assignment',
      description:
        "Each student's latest submission (or all, or the listed students') is graded again through its own workflow, `regrades.concurrency` at once. The body is optional.",
      tags: [TAGS.assignments, TAGS.regrades],
      security: platformSecurity,
      params: IdParams("the platform's assignment id"),
      body: assignmentRegradeBody(deps.config.regrades.maxStudentIds),
      ...optionalBodyMark,
      response: { 202: RegradeStartedSchema, ...errorResponses(400, 401, 403, 404, 503) },
    },
  }, async (req, reply) => {
    const assignmentId = checkId(req.params.id, 'assignment_id');
    const p = platformOf(req);
    const body = optionalBody(req.body, FIELDS);
    const scope = parseScope(body.scope);
    const studentIds = parseStudentIds(body.student_ids, deps.config.regrades.maxStudentIds);
    const reason = parseReason(body.reason);
    const priority = regradePriority(body.priority);
    if (!isAbsent(body.update_assignment) && typeof body.update_assignment !== 'boolean') throw invalid('update_assignment', 'must be true or false');
    const updateAssignment = body.update_assignment === true;
    if (updateAssignment && isAbsent(body.image)) throw invalid('update_assignment', 'needs an image to set as the assignment\'s');
    const image = await regradeImage(body.image, p, deps.config);
    const some = await deps.search.list(p.id, { assignmentId }, 1);
    if (some.items.length === 0) throw new ApiError(404, 'not_found', `no submissions for assignment ${assignmentId}`);
    if (updateAssignment && image !== undefined) {
      const current = await deps.assignments.get(p.id, assignmentId);
      await deps.assignments.put(p.id, assignmentId, { ...(current?.settings ?? { grading: {} }), image });
    }
    const { record, workflowId } = await deps.regrades.start(p.id, assignmentId, {
      scope,
      studentIds,
      image: image ?? null,
      reason,
      ...(priority !== undefined ? { priority } : {}),
    });
    return reply.status(202).send({
      regrade_id: regradeApiId(record),
      assignment_id: assignmentId,
      n: record.seq,
      workflow_id: workflowId,
      scope,
      image: image ?? null,
      assignment_updated: updateAssignment,
    });
  });

  const find = (platformId: string, id: string) => {
    const parsed = parseRegradeApiId(id);
    if (!parsed) throw new ApiError(404, 'not_found', `no regrade ${id}`);
    return { platformId, ...parsed };
  };

  const regradeId = IdParams('the `regrade_id` the regrade was started with');
  v1.get<{ Params: { id: string } }>('/v1/regrades/:id', {
    schema: {
      summary: "An assignment regrade's progress",
      tags: [TAGS.regrades],
      security: platformSecurity,
      params: regradeId,
      response: { 200: Type.Ref(RegradeProgressSchema), ...errorResponses(401, 404) },
    },
  }, async (req) => {
    const key = find(platformOf(req).id, req.params.id);
    const status = await deps.regrades.status(key);
    if (!status) throw new ApiError(404, 'not_found', `no regrade ${req.params.id}`);
    return presentStatus(req.params.id, key.assignmentId, key.seq, status);
  });

  const SUMMARIES: Record<RegradeControl, string> = {
    pause: 'Pause a regrade: no more gradings start (those running finish)',
    resume: 'Resume a paused regrade',
    cancel: 'Cancel a regrade: it ends',
  };
  for (const action of ['pause', 'resume', 'cancel'] as const) {
    v1.post<{ Params: { id: string } }>(`/v1/regrades/:id/${action}`, {
      schema: {
        summary: SUMMARIES[action],
        tags: [TAGS.regrades],
        security: platformSecurity,
        params: regradeId,
        response: { 202: RegradeSignalledSchema, ...errorResponses(401, 404, 409) },
      },
    }, async (req, reply) => {
      const key = find(platformOf(req).id, req.params.id);
      const status = await deps.regrades.status(key);
      if (!status) throw new ApiError(404, 'not_found', `no regrade ${req.params.id}`);
      if (status.status !== 'running') throw new ApiError(409, 'not_running', `regrade ${req.params.id} has ended (${status.status})`);
      await deps.regrades.control(key, action);
      return reply.status(202).send({ regrade_id: req.params.id, signal: action });
    });
  }
}
