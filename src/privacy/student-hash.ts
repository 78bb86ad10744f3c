import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { GradeflowConfig } from '../config/schema';

/** What a hashed student id starts with, so a reader of the Temporal UI knows it is not the id itself. */
const STUDENT_HASH_PREFIX = 'sh_';
/** Hex characters kept of the HMAC: 96 bits, no collision among any course's students. */
const HASH_HEX_CHARS = 24;
const MIN_KEY_CHARS = 16;

/**
 * The key of the student-id hash: the file `privacy.studentHashKeyFile`, else the variable named by
 * `privacy.studentHashKeyEnv` (GRADEFLOW_STUDENT_HASH_KEY), else one derived from `workerToken` (every
 * server shares it). Throws, naming the setting, when there is none; the key itself is never printed.
 */
export function studentHashKey(config: GradeflowConfig, env: Record<string, string | undefined> = process.env): Buffer {
  const { studentHashKeyFile, studentHashKeyEnv } = config.privacy;
  let text: string | undefined;
  let where: string;
  if (studentHashKeyFile) {
    where = `privacy.studentHashKeyFile (${studentHashKeyFile})`;
    try {
      text = readFileSync(studentHashKeyFile, 'utf8').trim();
    } catch (err) {
      throw new Error(`${where}: cannot read it: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  } else {
    where = `environment variable ${studentHashKeyEnv}`;
    text = env[studentHashKeyEnv]?.trim() || undefined;
  }
  if (text !== undefined) {
    if (text.length < MIN_KEY_CHARS) throw new Error(`${where}: the student-id hash key must be at least ${MIN_KEY_CHARS} characters`);
    return Buffer.from(text);
  }
  if (config.workerToken) return createHmac('sha256', config.workerToken).update('gradeflow student-id hash key').digest();
  throw new Error(`no key to hash student ids with: set ${studentHashKeyEnv}, privacy.studentHashKeyFile or workerToken`);
}

/**
 * A student id as the Temporal UI may show it: `sh_` and 24 hex characters of HMAC-SHA256 over the platform
 * and the id. The same student of the same platform always hashes the same (an operator can search for it);
 * nobody without the key can tell whose it is, or try ids against it.
 */
export function studentHash(key: Buffer, platformId: string, studentId: string): string {
  const mac = createHmac('sha256', key).update(`${platformId}\n${studentId}`).digest('hex');
  return `${STUDENT_HASH_PREFIX}${mac.slice(0, HASH_HEX_CHARS)}`;
}
