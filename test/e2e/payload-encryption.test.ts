import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ApiError } from '../../src/api/errors';
import { registerCodecRoutes } from '../../src/api/routes/codec';
import { loadConfig } from '../../src/config/load';
import { workflowOwner } from '../../src/control/submission-workflows';
import { studentHash, studentHashKey } from '../../src/privacy/student-hash';
import { payloadCodecFromConfig } from '../../src/security/payload-keys';
import { SA } from '../../src/shared/search-attributes';
import { PROJECT_ROOT } from '../../src/setup/paths';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useReceiver, useStack } from '../helpers/hooks';
import { b64file } from '../helpers/stack';
import { historyFromJSON } from '../workflows/history-json';
import { HISTORIES_DIR } from '../workflows/workflow-env';

/**
 * A grading with a payload key configured: Temporal holds only ciphertext (a plain client finds no
 * submission content, output or params in the history), the codec endpoint decodes it for an operator's
 * token, as the Temporal UI would call it, and a later key rotation still decodes it.
 */
const mark = randomBytes(4).toString('hex');
const FILE_MARK = `file-marker-${mark}`;
const OUTPUT_MARK = `output-marker-${mark}`;
const PARAM_MARK = `param-marker-${mark}`;
const STUDENT = `student-marker-${mark}@example.edu`;
const TOKEN = `operator-${randomBytes(16).toString('hex')}`;
const UI_ORIGIN = 'http://localhost:8233';
const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('base64');
// The keys reach gradeflow as the cluster and compose pass them: in the environment, named by the config.
process.env.GF_TEST_PAYLOAD_KEY_A = KEY_A;
process.env.GF_TEST_PAYLOAD_KEY_B = KEY_B;

const stack = useStack('codec', {
  temporal: {
    address: inject('temporalAddress'),
    namespace: 'default',
    port: 7233,
    uiPort: 8233,
    taskQueuePrefix: `t-codec-${randomBytes(3).toString('hex')}`,
    tls: { enabled: false },
    payloadKeys: [{ id: 'key-a', keyEnv: 'GF_TEST_PAYLOAD_KEY_A' }],
  },
  codecServer: { tokens: [TOKEN], corsOrigins: [UI_ORIGIN] },
});
const receiver = useReceiver(stack);

let plainConnection: Connection;
let plain: Client;
beforeAll(async () => {
  plainConnection = await Connection.connect({ address: inject('temporalAddress') });
  plain = new Client({ connection: plainConnection });
});
afterAll(async () => {
  await plainConnection?.close();
});

type JsonPayload = { metadata?: Record<string, string>; data?: string };

/** Every Payload in a history (inputs, results, signals, summaries, search attributes…), in protobuf JSON. */
function payloadsOf(value: unknown, out: JsonPayload[] = []): JsonPayload[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return out;
  if (Array.isArray(value)) {
    for (const v of value) payloadsOf(v, out);
    return out;
  }
  const o = value as Record<string, unknown>;
  if (o.data instanceof Uint8Array && o.metadata && typeof o.metadata === 'object') {
    const metadata = Object.fromEntries(Object.entries(o.metadata as Record<string, Uint8Array>).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    out.push({ metadata, data: Buffer.from(o.data).toString('base64') });
    return out;
  }
  for (const v of Object.values(o)) payloadsOf(v, out);
  return out;
}

const codecCall = (pathName: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${stack.server.url}/codec/${pathName}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

const decodedText = (payloads: JsonPayload[]) => payloads.map((p) => Buffer.from(p.data ?? '', 'base64').toString()).join('\n');

describe('payloads encrypted in Temporal, decoded by the codec endpoint', () => {
  let workflowId = '';
  let submissionId = '';
  let history: temporal.api.history.v1.IHistory;
  let fileText = '';

  it('grades with a key configured; the history a plain client reads holds no content, output, params or student id', async () => {
    fileText = [
      `# ${FILE_MARK}`,
      `echo "${OUTPUT_MARK} with $GF_MARK"`,
      'echo "--BEGIN CORRECTOMATIC RESPONSE--"',
      `echo '{"success": true, "grade": 4, "comments": ["well done"]}'`,
      'echo "--END CORRECTOMATIC RESPONSE--"',
    ].join('\n');
    const workId = `codec-${mark}`;
    const res = await stack.post({
      image: SCRIPT_RUNNER,
      work_id: workId,
      student_id: STUDENT,
      assignment_id: 'hw-codec',
      params: { GF_MARK: PARAM_MARK },
      callback: receiver.url('/codec'),
      file: b64file('grade.sh', fileText),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    submissionId = res.body.id as string;
    const cb = await receiver.waitForOne((c) => c.body.work_id === workId);
    expect(cb.body).toMatchObject({ success: true, grade: 4 });
    const done = await stack.waitFor(submissionId, (b) => b.status === 'completed');
    // The grader really saw the param and printed the line (so its absence below means something).
    expect(done.result.stdout.text).toContain(`${OUTPUT_MARK} with ${PARAM_MARK}`);
    workflowId = `submission/test/w/${workId}`;

    const handle = plain.workflow.getHandle(workflowId);
    // The record says completed before the run closes (the callback first): wait for the close.
    for (let i = 0; (await handle.describe()).status.name === 'RUNNING'; i++) {
      if (i > 100) throw new Error('the workflow did not close');
      await new Promise((r) => setTimeout(r, 200));
    }
    history = await handle.fetchHistory();
    const raw = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    const base64File = Buffer.from(fileText).toString('base64');
    for (const secret of [FILE_MARK, base64File, OUTPUT_MARK, PARAM_MARK, STUDENT, 'well done']) {
      expect(raw.includes(secret), `"${secret}" in the raw history`).toBe(false);
    }
    // Every payload the SDK encodes (all but search attributes, which Temporal indexes) is ciphertext under key-a.
    const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
    const input = started.input!.payloads![0]!;
    expect(Buffer.from(input.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect(Buffer.from(input.metadata!['encryption-key-id']!).toString()).toBe('key-a');
    const summary = history.events![0]!.userMetadata?.summary;
    expect(summary?.metadata?.encoding && Buffer.from(summary.metadata.encoding).toString()).toBe('binary/encrypted');
    // A plain client cannot tell whose run it is either; one with the key can.
    expect(await workflowOwner(plain, 'default', workflowId)).toBeUndefined();
    expect(await workflowOwner(stack.server.client, 'default', workflowId)).toBe(submissionId);
  });

  it('puts a keyed hash of the student id in GradeflowStudent, the value `gradeflow student-hash` prints', async () => {
    const description = await plain.workflow.getHandle(workflowId).describe();
    const expected = studentHash(studentHashKey(stack.config), 'test', STUDENT);
    expect(description.typedSearchAttributes.get(SA.student)).toBe(expected);
    expect(expected).toMatch(/^sh_/);
    // The CLI, with the server's config, prints the same value and the query to paste into the UI.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-student-hash-'));
    try {
      const file = path.join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ workerToken: stack.config.workerToken, platforms: stack.config.platforms }));
      const out = execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'gradeflow.js'), 'student-hash', 'test', STUDENT, '--json'], {
        env: { PATH: process.env.PATH, GRADEFLOW_CONFIG: file },
        encoding: 'utf8',
      });
      expect(JSON.parse(out)).toEqual({ platform: 'test', student_hash: expected, query: `GradeflowPlatform = "test" AND GradeflowStudent = "${expected}"` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const listed = [];
    for await (const w of plain.workflow.list({ query: `GradeflowStudent = "${expected}" AND GradeflowAssignment = "hw-codec"` })) listed.push(w.workflowId);
    // Visibility is eventually consistent; the describe above already proved the value.
    expect(listed.length === 0 || listed.includes(workflowId)).toBe(true);
  });

  it('decodes the history through POST /codec/decode for an operator token, as the Temporal UI calls it', async () => {
    const payloads = payloadsOf(history);
    expect(payloads.length).toBeGreaterThan(5);
    const res = await codecCall('decode', { payloads }, { authorization: `Bearer ${TOKEN}`, origin: UI_ORIGIN, 'x-namespace': 'default' });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    const body = (await res.json()) as { payloads: JsonPayload[] };
    expect(body.payloads).toHaveLength(payloads.length);
    const text = decodedText(body.payloads);
    expect(text).toContain(Buffer.from(fileText).toString('base64')); // the inlined file, as the input carries it
    expect(text).toContain(PARAM_MARK);
    expect(text).toContain(OUTPUT_MARK);
    expect(text).toContain('Grade with'); // the summary
    expect(text).not.toContain(STUDENT); // not even the decoded summary names the student
    // Encode is the inverse: what it returns decodes back.
    const enc = await codecCall('encode', { payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"x"').toString('base64') }] }, { authorization: `Bearer ${TOKEN}` });
    const encoded = (await enc.json()) as { payloads: JsonPayload[] };
    expect(Buffer.from(encoded.payloads[0]!.metadata!.encoding!, 'base64').toString()).toBe('binary/encrypted');
  });

  it('refuses without a token (401), with another token or namespace (403); CORS only for the UI origin', async () => {
    const one = { payloads: payloadsOf(history).slice(0, 1) };
    const none = await codecCall('decode', one);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const wrong = await codecCall('decode', one, { authorization: 'Bearer not-the-operator-token' });
    expect(wrong.status).toBe(403);
    const elsewhere = await codecCall('decode', one, { authorization: `Bearer ${TOKEN}`, 'x-namespace': 'other' });
    expect(elsewhere.status).toBe(403);
    expect(await elsewhere.json()).toMatchObject({ error: { code: 'namespace_not_served', field: 'X-Namespace' } });
    const bad = await codecCall('decode', { payloads: [{ data: 'not base64!' }] }, { authorization: `Bearer ${TOKEN}` });
    expect(bad.status).toBe(400);
    // A UI without SSO sends no Authorization: its endpoint carries the token in the path.
    const inPath = await codecCall(`t/${TOKEN}/decode`, one, { origin: UI_ORIGIN });
    expect(inPath.status).toBe(200);
    expect(inPath.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect((await codecCall('t/not-the-operator-token/decode', one)).status).toBe(403);

    const preflight = (origin: string) =>
      fetch(`${stack.server.url}/codec/decode`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-namespace' },
      });
    const ok = await preflight(UI_ORIGIN);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const other = await preflight('http://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('still decodes the history after rotation (key-b current, key-a listed); without key-a it says which key is missing', async () => {
    const payloads = payloadsOf(history);
    const rotated = (keys: Array<{ id: string; keyEnv: string; current?: boolean }>) =>
      loadConfig({}, { temporal: { payloadKeys: keys }, codecServer: { tokens: [TOKEN], corsOrigins: [] } });
    const call = async (config: ReturnType<typeof rotated>, route: string, body: unknown) => {
      // The route alone, with the API's error shape (buildApp's handler does the same for ApiError).
      const app = Fastify();
      app.setErrorHandler((err, _req, reply) => {
        void reply.status(err instanceof ApiError ? err.statusCode : 500).send(err instanceof ApiError ? err.toBody() : { error: { message: String(err) } });
      });
      await registerCodecRoutes(app, { config });
      try {
        const address = await app.listen({ host: '127.0.0.1', port: 0 });
        const res = await fetch(`${address}/codec/${route}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
        return { status: res.status, body: (await res.json()) as { payloads: JsonPayload[]; error?: { message: string } } };
      } finally {
        await app.close();
      }
    };
    const afterRotation = rotated([
      { id: 'key-a', keyEnv: 'GF_TEST_PAYLOAD_KEY_A' },
      { id: 'key-b', keyEnv: 'GF_TEST_PAYLOAD_KEY_B', current: true },
    ]);
    const decoded = await call(afterRotation, 'decode', { payloads });
    expect(decoded.status).toBe(200);
    expect(decodedText(decoded.body.payloads)).toContain(PARAM_MARK);
    const encoded = await call(afterRotation, 'encode', { payloads: payloads.slice(0, 1) });
    expect(Buffer.from(encoded.body.payloads[0]!.metadata!['encryption-key-id']!, 'base64').toString()).toBe('key-b');

    const withoutA = await call(rotated([{ id: 'key-b', keyEnv: 'GF_TEST_PAYLOAD_KEY_B' }]), 'decode', { payloads });
    expect(withoutA.status).toBe(422);
    expect(withoutA.body.error?.message).toMatch(/key "key-a", which is not among temporal.payloadKeys/);
  });

  it('replays the encrypted history and every committed (plain) history with the codec configured', async () => {
    const codec = payloadCodecFromConfig(stack.config)!;
    const fixtures = readdirSync(HISTORIES_DIR)
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({ workflowId: path.basename(f, '.json'), history: historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES_DIR, f), 'utf8'))) }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const r of Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: { payloadCodecs: [codec] } },
      [{ workflowId, history }, ...fixtures],
    )) {
      replayed++;
      if (r.error) failures.push(`${r.workflowId}: ${String(r.error)}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(fixtures.length + 1);
  });
});
