import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { createSearchAttributePrivacy } from '../../src/privacy/search-attribute-privacy';
import { studentHash, studentHashKey } from '../../src/privacy/student-hash';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, PayloadDecryptionError } from '../../src/security/payload-codec';
import { payloadCodecFromConfig } from '../../src/security/payload-keys';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-codec-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const keyA = { id: 'a', key: randomBytes(32) };
const keyB = { id: 'b', key: randomBytes(32) };
const plain = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const meta = (p: Payload, k: string) => Buffer.from(p.metadata?.[k] ?? []).toString();

describe('AES-256-GCM payload codec', () => {
  it('encrypts the whole payload (metadata too) under the current key, with a fresh IV each time', async () => {
    const codec = new AesGcmPayloadCodec(keyA);
    const input = plain({ file: 'print("secret code")', params: { X: 'param-value' } });
    const [one, two] = await codec.encode([input, input]);
    for (const e of [one!, two!]) {
      expect(meta(e, 'encoding')).toBe(ENCRYPTED_ENCODING);
      expect(meta(e, KEY_ID_METADATA)).toBe('a');
      expect(Object.keys(e.metadata!)).toEqual(['encoding', KEY_ID_METADATA]);
      expect(Buffer.from(e.data!).includes('secret code')).toBe(false);
      expect(Buffer.from(e.data!).includes('json/plain')).toBe(false);
    }
    expect(Buffer.from(one!.data!).subarray(0, 12).equals(Buffer.from(two!.data!).subarray(0, 12))).toBe(false);
    const [back] = await codec.decode([one!]);
    expect(defaultPayloadConverter.fromPayload(back!)).toEqual({ file: 'print("secret code")', params: { X: 'param-value' } });
  });

  it('passes plain payloads through on decode (histories written before a key was set)', async () => {
    const codec = new AesGcmPayloadCodec(keyA);
    const p = plain('old history');
    const [back] = await codec.decode([p]);
    expect(back).toBe(p);
  });

  it('decodes with a former key after rotation, encodes with the new current one', async () => {
    const [underA] = await new AesGcmPayloadCodec(keyA).encode([plain('written under a')]);
    const rotated = new AesGcmPayloadCodec(keyB, [keyA]);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([underA!]))[0]!)).toBe('written under a');
    const [underB] = await rotated.encode([plain('new')]);
    expect(meta(underB!, KEY_ID_METADATA)).toBe('b');
  });

  it('fails clearly on an unknown key id, and on altered bytes', async () => {
    const [underA] = await new AesGcmPayloadCodec(keyA).encode([plain('x')]);
    await expect(new AesGcmPayloadCodec(keyB).decode([underA!])).rejects.toThrow(/key "a", which is not among temporal.payloadKeys \(known: b\)/);
    const altered = Buffer.from(underA!.data!);
    altered[20] = altered[20]! ^ 1;
    await expect(new AesGcmPayloadCodec(keyA).decode([{ ...underA!, data: altered }])).rejects.toThrow(PayloadDecryptionError);
    // The key id is authenticated: the same bytes relabelled to another id do not decrypt.
    const relabelled = { ...underA!, metadata: { ...underA!.metadata, [KEY_ID_METADATA]: Buffer.from('b') } };
    await expect(new AesGcmPayloadCodec(keyB, [{ id: 'a', key: keyB.key }]).decode([relabelled])).rejects.toThrow(/fails authentication/);
  });
});

describe('payload keys in the config', () => {
  it('reads keys from env and file, one current; none configured: no codec', () => {
    expect(payloadCodecFromConfig(loadConfig({}))).toBeUndefined();
    const file = path.join(dir, 'k.b64');
    writeFileSync(file, `${keyB.key.toString('base64')}\n`, { mode: 0o600 });
    const config = loadConfig({ GRADEFLOW_CONFIG: write({ temporal: { payloadKeys: [{ id: 'a', keyEnv: 'K_A' }, { id: 'b', keyFile: file, current: true }] } }) });
    const codec = payloadCodecFromConfig(config, { K_A: keyA.key.toString('base64') })!;
    return codec.encode([plain(1)]).then(([p]) => expect(meta(p!, KEY_ID_METADATA)).toBe('b'));
  });

  it('GRADEFLOW_PAYLOAD_KEY configures one key, named by GRADEFLOW_PAYLOAD_KEY_ID', () => {
    const config = loadConfig({ GRADEFLOW_PAYLOAD_KEY: keyA.key.toString('base64'), GRADEFLOW_PAYLOAD_KEY_ID: 'k2026' });
    expect(config.temporal.payloadKeys).toEqual([{ id: 'k2026', keyEnv: 'GRADEFLOW_PAYLOAD_KEY', current: true }]);
  });

  it('refuses bad key settings naming the field, never printing a key', () => {
    const two = (current: boolean) => ({ temporal: { payloadKeys: [{ id: 'a', keyEnv: 'K_A', current }, { id: 'b', keyEnv: 'K_B' }] } });
    expect(() => loadConfig({ GRADEFLOW_CONFIG: write(two(false)) })).toThrow(/exactly one key must be "current"/);
    expect(() => loadConfig({ GRADEFLOW_CONFIG: write({ temporal: { payloadKeys: [{ id: 'a', keyEnv: 'K', keyFile: '/x' }] } }) })).toThrow(
      /payloadKeys\[0\]": give keyEnv or keyFile/,
    );
    const config = loadConfig({ GRADEFLOW_CONFIG: write(two(true)) });
    expect(() => payloadCodecFromConfig(config, { K_A: keyA.key.toString('base64') })).toThrow(/payloadKeys\[1\] \("b"\): environment variable K_B is not set/);
    const short = randomBytes(16).toString('base64');
    let message = '';
    try {
      payloadCodecFromConfig(config, { K_A: keyA.key.toString('base64'), K_B: short });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/32 random bytes in base64/);
    expect(message).not.toContain(short);
  });
});

describe('student ids in search attributes', () => {
  const base = { apiKeys: ['k'.repeat(20)], callbackSecret: 'whsec_AAAA', images: ['*'], allowLoopbackCallbacks: false };
  const config = loadConfig({}, {
    workerToken: 'worker-token-0123456789',
    platforms: [
      { id: 'lms', ...base, apiKeys: ['l'.repeat(20)] },
      { id: 'open', ...base, apiKeys: ['o'.repeat(20)], studentIds: 'plain', workflowIds: 'gradeflow_id' },
    ],
  });

  it('is a keyed hash, prefixed, stable, per platform and per key', () => {
    const key = studentHashKey(config, {});
    const h = studentHash(key, 'lms', 'alice@example.edu');
    expect(h).toMatch(/^sh_[0-9a-f]{24}$/);
    expect(studentHash(key, 'lms', 'alice@example.edu')).toBe(h);
    expect(studentHash(key, 'open', 'alice@example.edu')).not.toBe(h);
    expect(studentHash(studentHashKey(config, { GRADEFLOW_STUDENT_HASH_KEY: 'another key of enough length' }), 'lms', 'alice@example.edu')).not.toBe(h);
    expect(() => studentHashKey(config, { GRADEFLOW_STUDENT_HASH_KEY: 'short' })).toThrow(/at least 16 characters/);
    expect(() => studentHashKey(loadConfig({}), {})).toThrow(/no key to hash student ids/);
  });

  it('hashes GradeflowStudent by default; a "plain" platform keeps it; "gradeflow_id" drops GradeflowWorkId', () => {
    const privacy = createSearchAttributePrivacy(config);
    const attrs = [
      { name: 'GradeflowPlatform', value: 'x' },
      { name: 'GradeflowWorkId', value: 'alice-hw1' },
      { name: 'GradeflowStudent', value: 'alice@example.edu' },
    ];
    const hashed = privacy('lms', attrs);
    expect(hashed).toEqual([attrs[0], attrs[1], { name: 'GradeflowStudent', value: studentHash(studentHashKey(config), 'lms', 'alice@example.edu') }]);
    expect(privacy('open', attrs)).toEqual([attrs[0], attrs[2]]);
  });
});

let n = 0;
function write(json: unknown): string {
  const f = path.join(dir, `config-${n++}.json`);
  writeFileSync(f, JSON.stringify(json));
  return f;
}
