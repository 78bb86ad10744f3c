import { readFileSync } from 'node:fs';
import type { DataConverter } from '@temporalio/common';
import type { GradeflowConfig } from '../config/schema';
import { AesGcmPayloadCodec, KEY_BYTES, type PayloadKey } from './payload-codec';

type KeyEntry = NonNullable<GradeflowConfig['temporal']['payloadKeys']>[number];

/** One key's bytes from its variable or file: base64 of exactly 32 bytes. The error names where, never the value. */
function readKey(entry: KeyEntry, i: number, env: Record<string, string | undefined>): Buffer {
  const where = `temporal.payloadKeys[${i}] ("${entry.id}")`;
  let text: string | undefined;
  if (entry.keyEnv) {
    text = env[entry.keyEnv];
    if (!text) throw new Error(`${where}: environment variable ${entry.keyEnv} is not set`);
  } else {
    try {
      text = readFileSync(entry.keyFile!, 'utf8');
    } catch (err) {
      throw new Error(`${where}: cannot read ${entry.keyFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || key.length !== KEY_BYTES) {
    throw new Error(`${where}: the key must be ${KEY_BYTES} random bytes in base64 (openssl rand -base64 32)`);
  }
  return key;
}

/** The payload codec the config describes, or undefined when it lists no key (payloads stay plain). */
export function payloadCodecFromConfig(config: GradeflowConfig, env: Record<string, string | undefined> = process.env): AesGcmPayloadCodec | undefined {
  const entries = config.temporal.payloadKeys ?? [];
  if (entries.length === 0) return undefined;
  const keys: Array<PayloadKey & { current: boolean }> = entries.map((e, i) => ({
    id: e.id,
    key: readKey(e, i, env),
    current: entries.length === 1 || e.current === true,
  }));
  const current = keys.find((k) => k.current)!;
  return new AesGcmPayloadCodec(current, keys.filter((k) => k !== current));
}

/**
 * The data converter of every Temporal client and worker gradeflow makes: the default converters, and the
 * payload codec when keys are configured.
 */
export function dataConverterFromConfig(config: GradeflowConfig): DataConverter {
  const codec = payloadCodecFromConfig(config);
  return codec ? { payloadCodecs: [codec] } : {};
}
