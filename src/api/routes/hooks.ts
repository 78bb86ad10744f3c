import { Type } from '@sinclair/typebox';
import { publicSecurity } from '../schemas/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GitHookServerConfig, PlatformConfig } from '../../config/schema';
import { githubSignatureValid, gitlabTokenValid } from '../../git/hook-signatures';
import { PushEventInvalid, readPushEvent, type GitPlatformKind } from '../../git/push-event';
import { ApiError } from '../errors';
import { handlePush, type PushDeps } from './hooks-push';

/** Largest hook body read, bytes: GitHub caps its payloads at 25 MB; a push event is a few KiB to a few MiB. */
const HOOK_BODY_LIMIT = 25 * 1024 * 1024;

const HookAnswer = Type.Object(
  {
    id: Type.Optional(Type.String({ description: 'the submission of the pushed commit' })),
    work_id: Type.Optional(Type.String({ description: 'push-<digest of the repository path>-<commit>' })),
    status: Type.Optional(Type.String({ description: 'the submission\'s status' })),
    duplicate: Type.Optional(Type.Boolean({ description: 'true: a repeated delivery of a push already submitted' })),
    ignored_reason: Type.Optional(
      Type.String({
        description:
          'why the hook submitted nothing: not_a_push, not_a_branch, branch_deleted, repository_not_mapped, repository_ambiguous, branch_not_configured, no_student_id, repository_not_readable, commit_not_found, forbidden_address, too_large, invalid_archive, invalid_submission',
      }),
    ),
    message: Type.Optional(Type.String()),
  },
  { description: 'a submission (202 new, 200 a repeat), or 202 with ignored_reason' },
);
const ErrorAnswer = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }) },
  { description: 'the API\'s error shape' },
);
const PushBody = Type.Object({}, { additionalProperties: true, description: 'the platform\'s push event as it sends it (application/json)' });

const ROUTES: Record<GitPlatformKind, { headers: ReturnType<typeof Type.Object>; summary: string; description: string }> = {
  gitlab: {
    summary: 'GitLab push webhook: grade the pushed commit',
    description:
      'Set as a GitLab project, group or system hook with "Push events" and a secret token from the platform\'s gitHooks.gitlab.secret (the token identifies the platform). Answered 401 for an unknown token. See docs/git-hooks.md.',
    headers: Type.Object({
      'x-gitlab-token': Type.Optional(Type.String({ description: 'the hook\'s secret token' })),
      'x-gitlab-event': Type.Optional(Type.String({ description: '"Push Hook" (or "System Hook")' })),
      'x-gitlab-event-uuid': Type.Optional(Type.String({ description: 'recorded as the delivery id' })),
    }),
  },
  github: {
    summary: 'GitHub push webhook: grade the pushed commit',
    description:
      'Set as a GitHub repository or organization webhook, content type application/json, "Just the push event", with the platform\'s gitHooks.github.secret as its secret (the signature identifies the platform). Answered 401 for a missing or wrong signature. See docs/git-hooks.md.',
    headers: Type.Object({
      'x-hub-signature-256': Type.Optional(Type.String({ description: 'sha256=<HMAC-SHA256 of the body with the webhook secret>' })),
      'x-github-event': Type.Optional(Type.String({ description: '"push" ("ping" is answered with not_a_push)' })),
      'x-github-delivery': Type.Optional(Type.String({ description: 'recorded as the delivery id' })),
    }),
  },
};

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** The platform a hook is for, by its secret: GitLab's token, or the key that verifies GitHub's signature. */
function hookPlatform(platforms: readonly PlatformConfig[], kind: GitPlatformKind, req: FastifyRequest, raw: Buffer): { platform: PlatformConfig; server: GitHookServerConfig } {
  for (const platform of platforms) {
    const server = platform.gitHooks?.[kind];
    if (!server) continue;
    const valid =
      kind === 'gitlab' ? gitlabTokenValid(header(req, 'x-gitlab-token'), server.secret) : githubSignatureValid(header(req, 'x-hub-signature-256'), raw, server.secret);
    if (valid) return { platform, server };
  }
  throw new ApiError(401, 'unauthorized', kind === 'gitlab' ? 'X-Gitlab-Token is missing or unknown' : 'X-Hub-Signature-256 is missing or does not verify');
}

/**
 * POST /v1/hooks/gitlab and POST /v1/hooks/github: push webhooks, authenticated by the hook's secret
 * rather than an API key. Their bodies are read as bytes (GitHub signs the bytes), then parsed.
 */
export async function registerHookRoutes(app: FastifyInstance, deps: PushDeps): Promise<void> {
  await app.register(async (scope) => {
    const rawBodies = new WeakMap<FastifyRequest, Buffer>();
    const hooks = new WeakMap<FastifyRequest, { platform: PlatformConfig; server: GitHookServerConfig }>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: HOOK_BODY_LIMIT }, (req, body, done) => {
      rawBodies.set(req, body as Buffer);
      try {
        done(null, JSON.parse((body as Buffer).toString('utf8')));
      } catch {
        done(new ApiError(400, 'invalid_json', 'the body is not valid JSON'), undefined);
      }
    });
    for (const kind of ['gitlab', 'github'] as const) {
      const route = ROUTES[kind];
      scope.post(
        `/v1/hooks/${kind}`,
        {
          schema: {
            summary: route.summary,
            description: route.description,
            tags: ['hooks'],
            security: publicSecurity,
            headers: route.headers,
            body: PushBody,
            response: { 200: HookAnswer, 202: HookAnswer, 400: ErrorAnswer, 401: ErrorAnswer, 503: ErrorAnswer },
          },
          // The secret is checked first: GitLab's token before the body is read, GitHub's signature (of
          // the body) before the body is validated or used.
          [kind === 'gitlab' ? 'onRequest' : 'preValidation']: async (req: FastifyRequest) => {
            hooks.set(req, hookPlatform(deps.config.platforms, kind, req, rawBodies.get(req) ?? Buffer.alloc(0)));
          },
        },
        async (req, reply) => {
          const { platform, server } = hooks.get(req)!;
          const event = header(req, kind === 'gitlab' ? 'x-gitlab-event' : 'x-github-event');
          const deliveryId = header(req, kind === 'gitlab' ? 'x-gitlab-event-uuid' : 'x-github-delivery')?.slice(0, 100);
          let push;
          try {
            push = readPushEvent(kind, event, req.body);
          } catch (err) {
            if (err instanceof PushEventInvalid) throw new ApiError(400, 'invalid_field', err.message, err.field);
            throw err;
          }
          if (!push) return reply.status(202).send({ ignored_reason: 'not_a_push', message: `only push events are graded (this is ${JSON.stringify(event ?? 'no event')})` });
          const answer = await handlePush(deps, req.log, { platform, kind, server, ...(deliveryId ? { deliveryId } : {}) }, push);
          return reply.status(answer.status).send(answer.body);
        },
      );
    }
  });
}
