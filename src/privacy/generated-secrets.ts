import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { GradeflowConfig } from '../config/schema';

/** The files under a directory (the cluster's, the dev data dir) that hold its generated secrets (mode 0600, directory 0700). */
export const generatedSecretFiles = (dir: string) => ({
  payloadKey: path.join(dir, 'secrets', 'payload-key'),
  codecToken: path.join(dir, 'secrets', 'codec-token'),
});

/** A secret kept in its file: made once (random), read again by a later run in the same directory. */
function kept(file: string, make: () => string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  // The directory above with the default mode (other parts, e.g. the cluster's PostgreSQL user, traverse it); only `secrets/` is 0700.
  mkdirSync(path.dirname(path.dirname(file)), { recursive: true });
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const value = make();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return value;
}

/**
 * What `gradeflow cluster` gives its servers and grading hosts (and `gradeflow dev` itself) so that Temporal
 * holds only encrypted payloads: one AES-256 payload key (its file's path in GRADEFLOW_PAYLOAD_KEY_FILE, id
 * `keyId`) and an operator token for the codec endpoint (GRADEFLOW_CODEC_TOKEN), each generated once into
 * `dir` and passed by environment, never in a config file. A config with its own keys or tokens keeps them.
 */
export function generatedPrivacyEnv(dir: string, config: GradeflowConfig, keyId: string): Record<string, string> {
  const files = generatedSecretFiles(dir);
  const env: Record<string, string> = {};
  if ((config.temporal.payloadKeys ?? []).length === 0) {
    kept(files.payloadKey, () => randomBytes(32).toString('base64'));
    env.GRADEFLOW_PAYLOAD_KEY_FILE = files.payloadKey;
    env.GRADEFLOW_PAYLOAD_KEY_ID = keyId;
  }
  if (config.codecServer.tokens.length === 0) env.GRADEFLOW_CODEC_TOKEN = kept(files.codecToken, () => randomBytes(24).toString('base64url'));
  return env;
}
