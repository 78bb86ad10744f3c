import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { PlatformConfig, PullPolicy } from '../../config/schema';
import type { Assignment, AssignmentSettings } from '../../store/assignments';
import { platformOf } from '../auth';
import type { AppDeps } from '../deps';
import { ApiError, invalid } from '../errors';
import { isAbsent, isPlainObject } from '../fields';
import { parseGradingFields, resolveGrading } from '../grading-settings';
import { checkFlavour, checkId, checkImageAllowed } from '../intake';
import { parsePatternList } from './hooks-patterns';
import { branchPatternProblem, repositoryPatternProblem } from '../../git/repository-patterns';
import { AssignmentBodySchema, AssignmentSchema, PULL_POLICY_CHOICES } from '../schemas/assignment';
import { errorResponses, IdParams, platformSecurity, TAGS } from '../schemas/common';

const FIELDS = ['image', 'flavour', 'pull_policy', 'format', 'results_file', 'max_grade', 'repositories', 'branches'] as const;
const PULL_POLICIES: readonly PullPolicy[] = PULL_POLICY_CHOICES;

function checkPullPolicy(value: unknown): PullPolicy {
  if (typeof value !== 'string' || !(PULL_POLICIES as readonly string[]).includes(value)) {
    throw invalid('pull_policy', `must be one of: ${PULL_POLICIES.join(', ')}`);
  }
  return value as PullPolicy;
}
/** An assignment's settings from a PUT body: every field optional, each checked as a submission's would be. */
function parseAssignmentBody(body: unknown, deps: Pick<AppDeps, 'config'>, platform: PlatformConfig): AssignmentSettings {
  if (!isPlainObject(body)) throw new ApiError(400, 'invalid_json', 'send a JSON object');
  const raw = body;
  for (const key of Object.keys(raw)) {
    if (!(FIELDS as readonly string[]).includes(key)) throw invalid(key, `is not an assignment setting; use ${FIELDS.join(', ')}`);
  }
  const grading = parseGradingFields(raw);
  // The same consistency rules as a submission's (results_file only with junit).
  if (grading.format !== undefined || grading.resultsFile !== undefined) resolveGrading(grading);
  const repositories = isAbsent(raw.repositories) ? undefined : parsePatternList(raw.repositories, 'repositories', repositoryPatternProblem);
  const branches = isAbsent(raw.branches) ? undefined : parsePatternList(raw.branches, 'branches', branchPatternProblem);
  // A push carries no grading fields: the assignment must say which grader runs it.
  if (repositories && isAbsent(raw.image)) throw invalid('image', 'is required with repositories (a push names no image)');
  if (branches && !repositories) throw invalid('branches', 'goes with repositories');
  return {
    ...(repositories ? { repositories } : {}),
    ...(branches ? { branches } : {}),
    ...(isAbsent(raw.image) ? {} : { image: checkImageAllowed(raw.image, platform) }),
    ...(isAbsent(raw.flavour) ? {} : { flavour: checkFlavour(raw.flavour, deps.config) }),
    ...(isAbsent(raw.pull_policy) ? {} : { pullPolicy: checkPullPolicy(raw.pull_policy) }),
    grading,
  };
}

function presentAssignment(a: Assignment) {
  const g = a.settings.grading;
  return {
    assignment_id: a.assignmentId,
    image: a.settings.image ?? null,
    flavour: a.settings.flavour ?? null,
    pull_policy: a.settings.pullPolicy ?? null,
    format: g.format ?? null,
    results_file: g.resultsFile ?? null,
    max_grade: g.maxGrade ?? null,
    repositories: a.settings.repositories ?? null,
    branches: a.settings.branches ?? null,
    created_at: a.createdAt.toISOString(),
    updated_at: a.updatedAt.toISOString(),
  };
}

/**
 * Per-assignment defaults: the grader image, flavour and result format its submissions get when they do
 * not name their own. A submission keeps the settings it was accepted with (a regrade reads it the same way).
 */
export function registerAssignmentRoutes(v1: FastifyInstance, deps: Pick<AppDeps, 'config' | 'assignments'>): void {
  const assignmentId = (id: string): string => checkId(id, 'assignment_id');

  const params = IdParams("the platform's assignment id (1–200 printable characters)");
  v1.put<{ Params: { id: string } }>('/v1/assignments/:id', {
    schema: {
      summary: "Set an assignment's defaults",
      description:
        "The grader image, flavour, pull policy and result format its submissions get when they name none. Replaces what was set (201 the first time, then 200). A submission keeps the settings it was accepted with.",
      tags: [TAGS.assignments],
      security: platformSecurity,
      params,
      body: AssignmentBodySchema,
      response: { 200: Type.Ref(AssignmentSchema), 201: Type.Ref(AssignmentSchema), ...errorResponses(400, 401, 403) },
    },
  }, async (req, reply) => {
    const id = assignmentId(req.params.id);
    const p = platformOf(req);
    const { assignment, created } = await deps.assignments.put(p.id, id, parseAssignmentBody(req.body, deps, p));
    return reply.status(created ? 201 : 200).send(presentAssignment(assignment));
  });

  v1.get<{ Params: { id: string } }>('/v1/assignments/:id', {
    schema: {
      summary: "An assignment's defaults",
      tags: [TAGS.assignments],
      security: platformSecurity,
      params,
      response: { 200: Type.Ref(AssignmentSchema), ...errorResponses(400, 401, 404) },
    },
  }, async (req) => {
    const id = assignmentId(req.params.id);
    const assignment = await deps.assignments.get(platformOf(req).id, id);
    if (!assignment) throw new ApiError(404, 'not_found', `no settings for assignment ${id}`);
    return presentAssignment(assignment);
  });
}
