import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PLATFORM_DEFAULTS, type PlatformConfig } from '../config/schema';
import type { SubmissionStore } from '../store/submissions';
import { ApiError } from './errors';

/** A platform's request rate limit, its config's or the default. */
function limitOf(req: FastifyRequest): { max: number; windowMs: number } {
  return req.platform?.rateLimit ?? PLATFORM_DEFAULTS.rateLimit;
}

/**
 * Each platform's request rate limit (`platforms[].rateLimit`) on every route of `v1`, counted per
 * platform (after its API key was checked: register this after the auth hook), with `@fastify/rate-limit`'s
 * in-memory store: each server process counts alone, so with N API servers behind a balancer a platform
 * may make up to N × max requests per window. Over it: 429 `rate_limited` with Retry-After (seconds).
 */
export async function registerPlatformRateLimit(v1: FastifyInstance): Promise<void> {
  await v1.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    keyGenerator: (req) => `platform:${req.platform?.id ?? ''}`,
    max: (req) => limitOf(req).max,
    timeWindow: (req) => limitOf(req).windowMs,
    errorResponseBuilder: (req, context) => {
      const { max, windowMs } = limitOf(req);
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new ApiError(
        429,
        'rate_limited',
        `this platform may make ${max} requests per ${windowMs} ms; send again in ${seconds} s`,
        undefined,
        seconds,
      );
    },
  });
}

/**
 * The platform's cap on unfinished submissions (`platforms[].maxUnfinished`), checked at intake: a new
 * submission past it is refused (429 `too_many_unfinished`, naming the cap); a repeat of a work_id already
 * stored is not new and is answered as always. Counted from the database, not locked: requests arriving
 * together may pass the cap by as many as arrive at once.
 */
export async function checkUnfinishedCap(
  store: Pick<SubmissionStore, 'countUnfinished' | 'hasWorkId'>,
  platform: PlatformConfig,
  workId: string | undefined,
): Promise<void> {
  const cap = platform.maxUnfinished ?? PLATFORM_DEFAULTS.maxUnfinished;
  const unfinished = await store.countUnfinished(platform.id);
  if (unfinished < cap) return;
  if (workId !== undefined && (await store.hasWorkId(platform.id, workId))) return;
  throw new ApiError(
    429,
    'too_many_unfinished',
    `this platform has ${unfinished} submissions unfinished, its cap (maxUnfinished) is ${cap}; send again when some have finished`,
    undefined,
    UNFINISHED_RETRY_AFTER_S,
  );
}

/** Seconds a platform at its unfinished cap is told to wait: a grading takes about that long. */
const UNFINISHED_RETRY_AFTER_S = 30;
