import multipart from '@fastify/multipart';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { GradeflowConfig } from '../config/schema';
import type { AssignmentStore } from '../store/assignments';
import type { SubmissionStore } from '../store/submissions';
import { ApiError } from './errors';
import { registerFileRoutes } from './routes/files';
import { registerHealthRoutes, type HealthChecks } from './routes/health';
import { registerSchemaRoutes } from './routes/schemas';
import { registerSubmissionRoutes } from './routes/submissions';
import type { GradingClient } from './temporal-client';
import type { WorkflowStarter } from './workflow-starter';

export interface AppDeps {
  config: GradeflowConfig;
  store: SubmissionStore;
  assignments: AssignmentStore;
  grading: GradingClient;
  /** Starts accepted submissions' workflows after the answer. */
  starter: WorkflowStarter;
  health: HealthChecks;
  /** A pino logger, or false for silence (tests). */
  logger: FastifyBaseLogger | false;
}

/** Map Fastify's own errors (body limits, bad JSON, multipart limits) onto the API's error shape. */
function toApiError(err: FastifyError): ApiError {
  if (err instanceof ApiError) return err;
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
      return new ApiError(400, 'invalid_multipart', err.message);
  }
  if (err.validation) {
    const v = err.validation[0];
    const field = (v?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.') || String(v?.params?.missingProperty ?? '');
    return new ApiError(400, 'invalid_field', `${field || 'request'} ${v?.message ?? 'is invalid'}`, field || undefined);
  }
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  return status === 500
    ? new ApiError(500, 'internal_error', 'something went wrong on our side; it has been logged')
    : new ApiError(status, 'bad_request', err.message);
}

/** The HTTP application: routes and one error handler. It never listens; the caller does. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const maxFile = deps.config.api.maxFileBytes;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    // One line per answer, written below: at debug for successes (a busy API would spend its time
    // logging), at info for refusals, at error for failures.
    logController: new LogController({ disableRequestLogging: true }),
    // JSON uploads carry the file in base64 (4/3 larger) plus the other fields.
    bodyLimit: Math.ceil((maxFile * 4) / 3) + 256 * 1024,
  });
  await app.register(multipart, {
    limits: { fileSize: maxFile, files: 1, fields: 32, fieldSize: 64 * 1024, parts: 40 },
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const apiError = toApiError(err);
    if (apiError.statusCode >= 500) req.log.error({ err }, 'request failed');
    void reply.status(apiError.statusCode).send(apiError.toBody());
  });
  app.addHook('onResponse', async (req, reply) => {
    const line = { method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (reply.statusCode >= 500) req.log.error(line, 'answered');
    else if (reply.statusCode >= 400) req.log.info(line, 'answered');
    else req.log.debug(line, 'answered');
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(new ApiError(404, 'not_found', `no route ${req.method} ${req.url}`).toBody());
  });
  registerHealthRoutes(app, deps.health);
  registerSchemaRoutes(app);
  registerSubmissionRoutes(app, deps);
  registerFileRoutes(app, deps);
  return app;
}
