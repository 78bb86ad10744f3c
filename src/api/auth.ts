import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { PlatformConfig } from '../config/schema';
import { sha256Hex as sha256 } from '../shared/sha256';
import { ApiError } from './errors';

declare module 'fastify' {
  interface FastifyRequest {
    /** The platform whose API key authenticated this request: set on `/v1` routes by `buildApp`'s hook (null elsewhere). */
    platform: PlatformConfig | null;
  }
}

/** The authenticated platform of a `/v1` request. */
export function platformOf(req: FastifyRequest): PlatformConfig {
  if (!req.platform) throw new ApiError(401, 'unauthorized', 'send "Authorization: Bearer <api key>"');
  return req.platform;
}

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
function bearerToken(req: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
}

/** Keys are held as SHA-256 digests; the config may give them plain or as "sha256:<hex>". */
export function createPlatformAuth(platforms: readonly PlatformConfig[]) {
  const byKeyHash = new Map<string, PlatformConfig>();
  for (const p of platforms) {
    for (const key of p.apiKeys) byKeyHash.set(key.startsWith('sha256:') ? key.slice(7).toLowerCase() : sha256(key), p);
  }
  return function authenticate(req: FastifyRequest): PlatformConfig {
    const key = bearerToken(req);
    if (!key) throw new ApiError(401, 'unauthorized', 'send "Authorization: Bearer <api key>"');
    const platform = byKeyHash.get(sha256(key));
    if (!platform) throw new ApiError(401, 'unauthorized', 'unknown API key');
    return platform;
  };
}

/** Grading hosts fetch submission files with the shared worker token. */
export function checkWorkerToken(req: FastifyRequest, token: string | undefined): void {
  const presented = bearerToken(req);
  if (!token || !presented) throw new ApiError(401, 'unauthorized', 'worker token required');
  const a = Buffer.from(sha256(presented));
  const b = Buffer.from(sha256(token));
  if (!timingSafeEqual(a, b)) throw new ApiError(401, 'unauthorized', 'bad worker token');
}
