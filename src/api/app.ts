import multipart from '@fastify/multipart';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RouteOptions,
} from 'fastify';
import { createPlatformAuth } from './auth';
import type { AppDeps } from './deps';
import type { EventStreams } from './routes/events';
import { isDatabaseUnavailable } from '../store/database-unavailable';
import { ApiError } from './errors';
import { registerOpenApi } from './openapi';
import { registerPlatformRateLimit } from './rate-limit';
import { registerAssignmentRoutes } from './routes/assignments';
import { registerCodecRoutes } from './routes/codec';
import { registerFlavourRoutes, registerVersionRoutes } from './routes/discovery';
import { registerGraderFactsRoutes } from './routes/grader-facts';
import { registerFileRoutes } from './routes/files';
import { registerHealthRoutes } from './routes/health';
import { createEventStreams } from './routes/events';
import { registerHookRoutes } from './routes/hooks';
import { registerRegradeRoutes } from './routes/regrades';
import { registerResultRoutes } from './routes/results';
import { registerSubmissionActionRoutes } from './routes/submission-actions';
import { registerSchemaRoutes } from './routes/schemas';
import { MAX_FIELD_BYTES, registerSubmissionRoutes } from './routes/submissions';
import { registerMetricsRoute } from '../metrics/route';
import { compileRequestSchema, schemaRefusal } from './schemas/validation';
import { VERSIONS } from './versions';

export type { AppDeps } from './deps';

declare module 'fastify' {
  interface FastifyInstance {
    /** The open event streams (GET /v1/submissions/:id/events). */
    eventStreams: EventStreams;
  }
}

/**
 * The longest path parameter (an id, percent-encoded: 3 characters per byte) routes accept; ids themselves
 * are up to 200 characters on every route (`checkId`), anything longer is refused in the API's shape.
 */
const MAX_PARAM_LENGTH = 1024;

/** Seconds a platform waits before repeating a request the database could not serve (a restart takes a few). */
const DATABASE_RETRY_AFTER_S = 2;

/** Map Fastify's own errors (body limits, bad JSON, multipart limits) onto the API's error shape. */
function toApiError(err: FastifyError): ApiError {
  if (err instanceof ApiError) return err;
  // A database restarting or out of reach: the platform sends the request again (a repeat with its work_id is harmless).
  if (isDatabaseUnavailable(err)) {
    return new ApiError(503, 'database_unavailable', 'the database is not answering; send the request again shortly', undefined, DATABASE_RETRY_AFTER_S);
  }
  switch (err.code) {
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'too_large', 'file is larger than the limit', 'file');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'unsupported_media_type', 'send application/json or multipart/form-data');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError(400, 'invalid_json', 'the body is not valid JSON');
    case 'FST_FILES_LIMIT':
      return new ApiError(400, 'invalid_field', 'file must be sent once', 'file');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
    case 'FST_MP_PREMATURE_CLOSE':
      return new ApiError(400, 'invalid_multipart', err.message);
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return new ApiError(400, 'invalid_multipart', 'a part declared as application/json is not valid JSON');
    case 'FST_PROTO_VIOLATION':
      return new ApiError(400, 'invalid_multipart', 'a field is named like a prototype property (__proto__, constructor)');
    case 'FST_ERR_BAD_URL':
      return new ApiError(400, 'bad_url', 'the URL is malformed');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError(414, 'uri_too_long', `an id in the URL is longer than ${MAX_PARAM_LENGTH} characters`);
  }
  // busboy's own errors (e.g. a multipart content type without a boundary) carry no code.
  if (!err.code && !err.statusCode && /^(Multipart: |Unexpected end of (multipart|form) data|Malformed part header)/.test(err.message)) {
    return new ApiError(400, 'invalid_multipart', `the multipart body is malformed: ${err.message}`);
  }
  // A request that fails its route's schema: every bad field in one 400.
  if (err.validation) return schemaRefusal(err.validation, err.validationContext);
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  return status === 500
    ? new ApiError(500, 'internal_error', 'something went wrong on our side; it has been logged')
    : new ApiError(status, 'bad_request', err.message);
}

/** Options for tests: `onRoute` sees every route as it is registered (the OpenAPI test checks each is documented). */
export interface BuildOptions {
  onRoute?: (route: RouteOptions) => void;
}

/** The HTTP application: every route, registered here, and one error handler. It never listens; the caller does. */
export async function buildApp(deps: AppDeps, options: BuildOptions = {}): Promise<FastifyInstance> {
  const maxFile = deps.config.api.maxFileBytes;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    // One line per answer, written below: at debug for successes (a busy API would spend its time
    // logging), at info for refusals, at error for failures.
    logController: new LogController({ disableRequestLogging: true }),
    // JSON uploads carry the file in base64 (4/3 larger) plus the other fields.
    bodyLimit: Math.ceil((maxFile * 4) / 3) + 256 * 1024,
    // Ids of up to 200 characters on every route (Fastify's default of 100 refused longer assignment ids).
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Errors Fastify raises before routing (bad URL, over-long parameter) in the API's shape too.
    frameworkErrors: (err, _req, reply) => {
      const apiError = toApiError(err as FastifyError);
      void (reply as FastifyReply).status(apiError.statusCode).send(apiError.toBody());
    },
  });
  if (options.onRoute) app.addHook('onRoute', options.onRoute);
  // Requests are validated against each route's schema (every error at once: src/api/schemas/validation.ts).
  // Answers are written as the handlers build them: the response schemas document them (OpenAPI) and
  // never filter them (Fastify's serializer would drop any property a schema does not list).
  app.setValidatorCompiler(compileRequestSchema);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await registerOpenApi(app, VERSIONS.gradeflow);
  await app.register(multipart, {
    // A field over fieldSize is refused (413 naming it), never cut: sized to the largest valid field
    // (params). Fields beyond the known ones are refused as they arrive; `fields` bounds what is buffered.
    limits: { fileSize: maxFile, files: 1, fields: 16, fieldSize: MAX_FIELD_BYTES, parts: 20 },
  });
  const answer = (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const apiError = toApiError(err);
    if (apiError.statusCode >= 500) req.log.error({ err }, 'request failed');
    if (apiError.retryAfterSeconds !== undefined) void reply.header('retry-after', String(apiError.retryAfterSeconds));
    void reply.status(apiError.statusCode).send(apiError.toBody());
  };
  app.setErrorHandler(answer);
  // A compressed body is not decompressed: read as plain text it would be garbage, or worse, be misread.
  app.addHook('onRequest', async (req) => {
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity' && encoding.trim() !== '') {
      throw new ApiError(415, 'unsupported_media_type', `Content-Encoding "${encoding}" is not supported; send the body uncompressed`);
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    // The path only: a query string may hold a student id (list filters) or a key sent by mistake; a codec
    // endpoint's token in the path (/codec/t/<token>/decode) is never logged.
    const url = req.url.split('?')[0]!.replace(/^\/codec\/t\/[^/]+/, '/codec/t/<token>');
    const line = { method: req.method, url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (reply.statusCode >= 500) req.log.error(line, 'answered');
    else if (reply.statusCode >= 400) req.log.info(line, 'answered');
    else req.log.debug(line, 'answered');
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(new ApiError(404, 'not_found', `no route ${req.method} ${req.url}`).toBody());
  });
  // Public: GET /healthz; GET /v1/schemas, /v1/schemas/:name; GET /v1/openapi.json (src/api/openapi.ts); GET /v1/version.
  registerHealthRoutes(app, deps);
  registerSchemaRoutes(app);
  if (deps.config.metrics.port === 0) registerMetricsRoute(app);
  registerVersionRoutes(app);
  // The platforms' API, each route behind a platform's API key (the hook sets `req.platform`):
  // PUT|GET /v1/assignments/:id; POST /v1/assignments/:id/regrade; POST|GET /v1/submissions; GET /v1/submissions/:id;
  // POST /v1/submissions/:id/regrade; GET /v1/regrades/:id; POST /v1/regrades/:id/pause|resume|cancel; GET /v1/flavours.
  const authenticate = createPlatformAuth(deps.config.platforms);
  app.decorateRequest('platform', null);
  // Open SSE streams (GET /v1/submissions/:id/events): counted, and ended when the server closes.
  const eventStreams = createEventStreams();
  app.decorate('eventStreams', eventStreams);
  app.addHook('preClose', async () => eventStreams.closeAll());
  app.register(async (v1) => {
    v1.addHook('onRequest', async (req) => {
      req.platform = authenticate(req);
    });
    // Per platform, after its key is known (./rate-limit.ts).
    await registerPlatformRateLimit(v1);
    registerAssignmentRoutes(v1, deps);
    registerSubmissionRoutes(v1, deps);
    registerRegradeRoutes(v1, deps);
    registerSubmissionActionRoutes(v1, deps);
    registerResultRoutes(v1, deps);
    eventStreams.register(v1, deps);
    registerFlavourRoutes(v1, deps);
  });
  // Git servers' push webhooks, each authenticated by its secret: POST /v1/hooks/gitlab, /v1/hooks/github.
  await registerHookRoutes(app, deps);
  // Grading hosts, with the worker token: GET /internal/v1/files/:sha256.
  registerFileRoutes(app, deps);
  registerGraderFactsRoutes(app, deps);
  // Operators (the Temporal UI and CLI), with an operator token: POST /codec/encode, /codec/decode.
  await registerCodecRoutes(app, deps);
  return app;
}
