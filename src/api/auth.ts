import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { PlatformConfig } from '../config/schema';
import { ApiError } from './errors';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Keys are held as SHA-256 digests; the config may give them plain or as "sha256:<hex>". */
export function createPlatformAuth(platforms: readonly PlatformConfig[]) {
  const byKeyHash = new Map<string, PlatformConfig>();
  for (const p of platforms) {
    for (const key of p.apiKeys) byKeyHash.set(key.startsWith('sha256:') ? key.slice(7).toLowerCase() : sha256(key), p);
  }
  return function authenticate(req: FastifyRequest): PlatformConfig {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new ApiError(401, 'unauthorized', 'send "Authorization: Bearer <api key>"');
    const platform = byKeyHash.get(sha256(match[1]!));
    if (!platform) throw new ApiError(401, 'unauthorized', 'unknown API key');
    return platform;
  };
}

/** Grading hosts fetch submission files with the shared worker token. */
export function checkWorkerToken(req: FastifyRequest, token: string | undefined): void {
  const presented = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (!token || !presented) throw new ApiError(401, 'unauthorized', 'worker token required');
  const a = Buffer.from(sha256(presented));
  const b = Buffer.from(sha256(token));
  if (!timingSafeEqual(a, b)) throw new ApiError(401, 'unauthorized', 'bad worker token');
}
