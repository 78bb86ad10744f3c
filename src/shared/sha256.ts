import { createHash } from 'node:crypto';

/** The SHA-256 digest of text (UTF-8) or bytes, as 64 lower-case hex digits. */
export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
