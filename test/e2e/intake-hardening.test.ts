import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_FIELD_BYTES } from '../../src/api/routes/submissions';
import { workflowOwner } from '../../src/control/submission-workflows';
import { ownWorkflowId, submissionWorkflowId } from '../../src/shared/workflow-ids';
import type { Submission } from '../../src/store/submissions';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useStack, useTemporalClient } from '../helpers/hooks';
import { b64file } from '../helpers/stack';

/**
 * Intake's hardening (issue "Step 5 — Hardening", items 5 and 6; docs attack report findings 4, 5, 6, 10,
 * 12): a client's mistake is a 4xx in the API's shape, never a 500; nothing is silently cut or dropped;
 * every accepted submission is graded, also when its work_id equals another submission's id.
 */

// Intake only: no grading host, so accepted submissions wait in their queue.
const stack = useStack('intake', {}, { host: false });

interface Part {
  name?: string;
  value: string | Buffer;
  filename?: string;
  type?: string;
}

/** A multipart/form-data body built by hand, so that its framing can be broken on purpose. */
function multipart(parts: Part[], boundary = `----gf${randomBytes(8).toString('hex')}`): { body: Buffer; type: string; boundary: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = [`form-data`, ...(p.name !== undefined ? [`name="${p.name}"`] : []), ...(p.filename !== undefined ? [`filename="${p.filename}"`] : [])].join('; ');
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`));
    chunks.push(Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value, 'utf8'));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}`, boundary };
}

async function send(body: Buffer | string, type: string, headers: Record<string, string> = {}, url = '/v1/submissions', method = 'POST') {
  const res = await fetch(`${stack.server.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': type, ...headers },
    body,
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = { unparsable: text };
  }
  return { status: res.status, body: json };
}

const postParts = (parts: Part[]) => {
  const m = multipart(parts);
  return send(m.body, m.type);
};

const script = (text = 'echo') => ({ name: 'file', filename: 'grade.sh', value: text, type: 'application/octet-stream' });
const uniq = (prefix: string) => `${prefix}-${randomUUID()}`;

function expectError(res: { status: number; body: any }, status: number, field?: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
  if (field !== undefined) expect(res.body.error.field).toBe(field);
}

describe('malformed or mistyped multipart is a 400, never a 500 (finding 6, rows 39–43, 183–185)', () => {
  it('refuses a multipart body without a boundary parameter', async () => {
    const m = multipart([{ name: 'image', value: SCRIPT_RUNNER }, script()]);
    expectError(await send(m.body, 'multipart/form-data'), 400);
  });

  it('refuses a multipart body without its closing boundary', async () => {
    const m = multipart([{ name: 'image', value: SCRIPT_RUNNER }, script()]);
    const cut = m.body.subarray(0, m.body.length - `--${m.boundary}--\r\n`.length);
    expectError(await send(cut, m.type), 400);
  });

  it('refuses a multipart body of garbage', async () => {
    expectError(await send(randomBytes(2000), 'multipart/form-data; boundary=xyz'), 400);
    expectError(await send('this is not multipart at all', 'multipart/form-data; boundary=----abc'), 400);
  });

  it('refuses "file" sent as a text field', async () => {
    expectError(await postParts([{ name: 'image', value: SCRIPT_RUNNER }, { name: 'file', value: 'echo hello' }]), 400, 'file');
  });

  it.each([
    ['{name, content} with a string', { name: 'a.sh', content: 'echo' }],
    ['content an object', { name: 'a.sh', content: { a: 1 } }],
    ['name an array', { name: ['a.sh'], content: 'echo' }],
    ['content as bytea hex text', { name: 'a.sh', content: `\\x${'41'.repeat(64)}` }],
  ])('refuses "file" sent as an application/json part: %s', async (_name, value) => {
    const res = await postParts([{ name: 'image', value: SCRIPT_RUNNER }, { name: 'file', value: JSON.stringify(value), type: 'application/json' }]);
    expectError(res, 400, 'file');
  });

  it('refuses text the database cannot hold (a lone surrogate, NUL) with a 400', async () => {
    for (const field of ['params', 'student_id', 'callback', 'image', 'format']) {
      for (const bad of ['\ud800', 'a\u0000b']) {
        const value = field === 'params' ? { A: bad } : bad;
        const res = await send(JSON.stringify({ image: SCRIPT_RUNNER, [field]: value, file: b64file('a.sh', 'echo') }), 'application/json');
        expect(res.status, `${field} ${JSON.stringify(bad)}: ${JSON.stringify(res.body)}`).toBe(400);
      }
    }
    const name = await send(JSON.stringify({ image: SCRIPT_RUNNER, file: { name: 'a\ud800.sh', content_base64: '' } }), 'application/json');
    expect(name.status).toBe(400);
    const part = await postParts([{ name: 'image', value: SCRIPT_RUNNER }, { name: 'params', value: '"A=\\ud800"', type: 'application/json' }, script()]);
    expectError(part, 400, 'params');
  });

  it('refuses a part declared application/json that is not JSON', async () => {
    expectError(await postParts([{ name: 'image', value: SCRIPT_RUNNER }, { name: 'params', value: '{nope', type: 'application/json' }, script()]), 400);
  });
});

describe('nothing is cut or dropped silently (finding 5, rows 189, 200; finding 12)', () => {
  const twentyParams = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`K${i}`, String(i % 10).repeat(4000)]));

  it('keeps every param of an 80 KB multipart params field', async () => {
    const params = Object.entries(twentyParams).map(([k, v]) => `${k}=${v}`).join(',');
    expect(params.length).toBeGreaterThan(64 * 1024);
    const res = await postParts([{ name: 'image', value: SCRIPT_RUNNER }, { name: 'params', value: params }, script()]);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const stored = await stack.server.store.get('test', res.body.id);
    expect(stored!.params).toEqual(twentyParams);
  });

  it('keeps the largest valid params, 64 values of 4,096 characters, as a form field', async () => {
    const params = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`P${String(i).padStart(2, '0')}${'X'.repeat(100)}`, 'é'.repeat(4096)]));
    const res = await postParts([{ name: 'image', value: SCRIPT_RUNNER }, { name: 'params', value: JSON.stringify(params) }, script()]);
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(202);
    expect((await stack.server.store.get('test', res.body.id))!.params).toEqual(params);
  });

  it('refuses a field over the field limit (413 naming it), never cuts it', async () => {
    const res = await postParts([{ name: 'image', value: SCRIPT_RUNNER }, { name: 'params', value: `A=${'x'.repeat(MAX_FIELD_BYTES)}` }, script()]);
    expectError(res, 413, 'params');
  });

  it('refuses a multipart field sent twice (400 naming it)', async () => {
    const res = await postParts([{ name: 'image', value: SCRIPT_RUNNER }, { name: 'image', value: 'gradeflow/other:1' }, script()]);
    expectError(res, 400, 'image');
  });

  it('refuses an unknown field (400 naming it), JSON and multipart', async () => {
    const json = await stack.post({ image: SCRIPT_RUNNER, calback: 'http://127.0.0.1:9/cb', file: b64file('a.sh', 'echo') });
    expectError(json, 400, 'calback');
    const form = await postParts([{ name: 'image', value: SCRIPT_RUNNER }, { name: 'calback', value: 'http://127.0.0.1:9/cb' }, script()]);
    expectError(form, 400, 'calback');
  });

  it('answers a JSON file over the limit with 413, as multipart does (row 160)', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, file: b64file('big.bin', Buffer.alloc(stack.config.api.maxFileBytes + 1)) });
    expectError(res, 413, 'file');
  });

  it('refuses a compressed body (415), instead of reading gzip as plain JSON (row 210)', async () => {
    const body = JSON.stringify({ image: SCRIPT_RUNNER, file: b64file('a.sh', 'echo') });
    expectError(await send(body, 'application/json', { 'content-encoding': 'gzip' }), 415);
    expectError(await send(gzipSync(body), 'application/json', { 'content-encoding': 'gzip' }), 415);
    expect((await send(body, 'application/json', { 'content-encoding': 'identity' })).status).toBe(202);
  });

  it('refuses max_grade that is not decimal ("0x10" was read as 16)', async () => {
    for (const max of ['0x10', '0b1', '0o7', ' 1e', 'Infinity']) {
      expectError(await stack.post({ image: SCRIPT_RUNNER, max_grade: max, file: b64file('a.sh', 'echo') }), 400, 'max_grade');
    }
    const ok = await stack.post({ image: SCRIPT_RUNNER, max_grade: '12.5', file: b64file('a.sh', 'echo') });
    expect(ok.status).toBe(202);
    expect((await stack.server.store.get('test', ok.body.id as string))!.grading.maxGrade).toBe(12.5);
  });
});

describe('ids have the same length rules on every route, errors the API shape (finding 12, rows 26, 37)', () => {
  it('accepts assignment ids of 101–200 characters, as submissions do', async () => {
    const id = 'a'.repeat(150);
    const put = await stack.request('PUT', `/v1/assignments/${id}`, { image: SCRIPT_RUNNER });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    expect((await stack.request('GET', `/v1/assignments/${id}`)).status).toBe(200);
    const sub = await stack.post({ image: SCRIPT_RUNNER, assignment_id: 'b'.repeat(200), file: b64file('a.sh', 'echo') });
    expect(sub.status).toBe(202);
    expect((await stack.request('PUT', `/v1/assignments/${'b'.repeat(200)}`, { image: SCRIPT_RUNNER })).status).toBe(201);
  });

  it('answers longer ids in the API error shape', async () => {
    expectError(await stack.request('PUT', `/v1/assignments/${'c'.repeat(201)}`, { image: SCRIPT_RUNNER }), 400, 'assignment_id');
    expectError(await stack.request('PUT', `/v1/assignments/${'c'.repeat(300)}`, { image: SCRIPT_RUNNER }), 400, 'assignment_id');
    expectError(await stack.request('GET', `/v1/assignments/${'c'.repeat(3000)}`), 414);
    expectError(await stack.request('GET', `/v1/submissions/${'c'.repeat(3000)}`), 414);
    expectError(await stack.request('GET', `/v1/submissions/${'c'.repeat(150)}`), 404);
    expectError(await stack.request('GET', `/v1/assignments/%E0%A4%A`), 400);
  });
});

describe('a repeated work_id is the same submission or a conflict (finding 10, row 347)', () => {
  it.each([
    ['params', { params: 'A=1' }, { params: 'A=2' }],
    ['student_id', { student_id: 's1' }, { student_id: 's2' }],
    ['course_id', { course_id: 'c1' }, { course_id: 'c2' }],
    ['assignment_id', { assignment_id: 'hw1' }, {}],
  ])('answers 409 work_id_conflict when %s differs', async (_field, a, b) => {
    const workId = uniq('conflict');
    const base = { image: SCRIPT_RUNNER, work_id: workId, file: b64file('a.sh', 'echo') };
    expect((await stack.post({ ...base, ...a })).status).toBe(202);
    expectError(await stack.post({ ...base, ...b }), 409, 'work_id');
    expect((await stack.post({ ...base, ...a })).status).toBe(200);
  });

  it('answers the same content with 200 duplicate, whatever the params\' order or form', async () => {
    const workId = uniq('same');
    const first = await stack.post({ image: SCRIPT_RUNNER, work_id: workId, params: { A: '1', B: '2' }, student_id: 's', file: b64file('a.sh', 'echo') });
    expect(first.status).toBe(202);
    const again = await postParts([
      { name: 'image', value: SCRIPT_RUNNER },
      { name: 'work_id', value: workId },
      { name: 'params', value: 'B=2,A=1' },
      { name: 'student_id', value: 's' },
      { name: 'file', filename: 'a.sh', value: 'echo' },
    ]);
    expect(again).toMatchObject({ status: 200, body: { id: first.body.id, duplicate: true } });
  });
});

/** What the generators model: a submission's fields as sent, and what the store must then hold. */
interface Model {
  image: string;
  work_id?: string;
  callback?: string;
  params?: Record<string, string>;
  params_form?: 'kv' | 'json';
  student_id?: string;
  course_id?: string;
  assignment_id?: string;
  max_grade?: number;
  format?: string;
  file: { name: string; content: Buffer };
}

type Mutation =
  | { kind: 'none' }
  | { kind: 'unknown'; name: string }
  | { kind: 'duplicate'; field: string }
  | { kind: 'wrongType'; field: string; value: unknown }
  | { kind: 'oversize'; field: string }
  | { kind: 'framing'; how: 'noClose' | 'noBoundary' | 'garbage' | 'cut' | 'wrongBoundary' | 'lfOnly'; at: number }
  | { kind: 'fileAsText' }
  | { kind: 'fileAsJson'; value: unknown };

const idArb = fc.stringMatching(/^[\x21-\x7e]{1,40}$/);
// Names outside the refused ones (loader, shell, interpreter and gradeflow variables: see docs/graders.md).
const paramName = fc.stringMatching(/^P_[A-Z0-9_]{0,15}$/);
// Values: well-formed text (multipart is UTF-8), short mostly, sometimes long.
const paramValue = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40, unit: 'grapheme' }) },
  { weight: 1, arbitrary: fc.string({ minLength: 3000, maxLength: 4096, unit: 'grapheme-ascii' }) },
).map((s) => s.replace(/\p{Cc}/gu, '')); // control characters are refused
const kvValue = fc.stringMatching(/^[A-Za-z0-9._:/+-]{0,60}$/);

const modelArb: fc.Arbitrary<Model> = fc.record(
  {
    image: fc.constant(SCRIPT_RUNNER),
    work_id: idArb.map((w) => `pb-${randomUUID()}-${w}`.slice(0, 200)),
    callback: fc.nat(999).map((n) => `http://127.0.0.1:9/cb/${n}`),
    params: fc.oneof(
      fc.dictionary(paramName, paramValue, { maxKeys: 24 }).map((p) => ({ p, form: 'json' as const })),
      fc.dictionary(paramName, kvValue, { minKeys: 1, maxKeys: 10 }).map((p) => ({ p, form: 'kv' as const })),
    ) as fc.Arbitrary<{ p: Record<string, string>; form: 'kv' | 'json' }>,
    student_id: idArb,
    course_id: idArb,
    assignment_id: idArb,
    max_grade: fc.integer({ min: 1, max: 1000 }),
    format: fc.constantFrom('auto', 'correctomatic', 'tap', 'gitlab'),
    file: fc.record({ name: fc.stringMatching(/^[a-z][a-z0-9_]{0,10}\.sh$/), content: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) }),
  },
  { requiredKeys: ['image', 'file'] },
).map(({ params, ...rest }) => {
  const m: Model = rest as Model;
  if (params) {
    m.params = params.p;
    m.params_form = params.form;
  }
  return m;
});

const FIELD_NAMES = ['image', 'work_id', 'callback', 'params', 'student_id', 'course_id', 'assignment_id', 'max_grade', 'format'];
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.constantFrom('calback', 'workid', 'junk', 'Image', 'params ', '__proto__', 'constructor', '').map((name) => ({ kind: 'unknown' as const, name })) },
  { weight: 1, arbitrary: fc.constantFrom(...FIELD_NAMES).map((field) => ({ kind: 'duplicate' as const, field })) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('wrongType' as const),
      field: fc.constantFrom(...FIELD_NAMES, 'limits', 'flavour', 'results_file'),
      value: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.object({ maxDepth: 2 }), fc.string({ maxLength: 20 }), fc.string({ maxLength: 8, unit: 'binary' }).map((v) => `A=${v}`)),
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom('params', 'callback', 'image', 'work_id', 'student_id').map((field) => ({ kind: 'oversize' as const, field })) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('framing' as const),
      how: fc.constantFrom('noClose' as const, 'noBoundary' as const, 'garbage' as const, 'cut' as const, 'wrongBoundary' as const, 'lfOnly' as const),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'fileAsText' as const }) },
  { weight: 1, arbitrary: fc.oneof(fc.object({ maxDepth: 2 }), fc.string(), fc.integer()).map((value) => ({ kind: 'fileAsJson' as const, value })) },
);

/** The model's fields as text, the way a form sends them. */
function formFields(m: Model): Array<[string, string]> {
  const out: Array<[string, string]> = [['image', m.image]];
  if (m.work_id !== undefined) out.push(['work_id', m.work_id]);
  if (m.callback !== undefined) out.push(['callback', m.callback]);
  if (m.params !== undefined) {
    out.push(['params', m.params_form === 'kv' ? Object.entries(m.params).map(([k, v]) => `${k}=${v}`).join(',') : JSON.stringify(m.params)]);
  }
  for (const k of ['student_id', 'course_id', 'assignment_id', 'format'] as const) if (m[k] !== undefined) out.push([k, m[k]!]);
  if (m.max_grade !== undefined) out.push(['max_grade', String(m.max_grade)]);
  return out;
}

function oversized(field: string): string {
  return field === 'params' ? `A=${'y'.repeat(MAX_FIELD_BYTES + 10)}` : 'z'.repeat(field === 'callback' ? 5000 : 300);
}

async function postModel(m: Model, mut: Mutation, asJson: boolean) {
  if (asJson) {
    const body: Record<string, unknown> = Object.fromEntries(formFields(m));
    if (m.params !== undefined && m.params_form === 'json') body.params = m.params; // an object, in JSON
    if (m.max_grade !== undefined) body.max_grade = m.max_grade;
    body.file = { name: m.file.name, content_base64: m.file.content.toString('base64') };
    if (mut.kind === 'unknown') body[mut.name] = 'x';
    if (mut.kind === 'wrongType') body[mut.field] = mut.value;
    if (mut.kind === 'oversize') body[mut.field] = oversized(mut.field);
    if (mut.kind === 'fileAsText' || mut.kind === 'fileAsJson') body.file = mut.kind === 'fileAsText' ? 'echo' : mut.value;
    return send(JSON.stringify(body), 'application/json');
  }
  const parts: Part[] = formFields(m).map(([name, value]) => ({ name, value }));
  if (mut.kind === 'unknown') parts.push({ name: mut.name, value: 'x' });
  if (mut.kind === 'duplicate') {
    const present = parts.find((p) => p.name === mut.field);
    parts.push(...(present ? [present] : [{ name: mut.field, value: 'dup' }, { name: mut.field, value: 'dup' }]));
  }
  if (mut.kind === 'wrongType') {
    const i = parts.findIndex((p) => p.name === mut.field);
    const part = { name: mut.field, value: JSON.stringify(mut.value) ?? 'null', type: 'application/json' };
    if (i >= 0) parts[i] = part;
    else parts.push(part);
  }
  if (mut.kind === 'oversize') {
    const i = parts.findIndex((p) => p.name === mut.field);
    const part = { name: mut.field, value: oversized(mut.field) };
    if (i >= 0) parts[i] = part;
    else parts.push(part);
  }
  if (mut.kind === 'fileAsText') parts.push({ name: 'file', value: m.file.content });
  else if (mut.kind === 'fileAsJson') parts.push({ name: 'file', value: JSON.stringify(mut.value) ?? 'null', type: 'application/json' });
  else parts.push({ name: 'file', filename: m.file.name, value: m.file.content, type: 'application/octet-stream' });
  const built = multipart(parts);
  if (mut.kind !== 'framing') return send(built.body, built.type);
  const end = Buffer.from(`--${built.boundary}--\r\n`);
  switch (mut.how) {
    case 'noClose':
      return send(built.body.subarray(0, built.body.length - end.length), built.type);
    case 'noBoundary':
      return send(built.body, 'multipart/form-data');
    case 'garbage':
      return send(randomBytes(Math.floor(mut.at * 4000)), built.type);
    case 'cut':
      return send(built.body.subarray(0, Math.floor(mut.at * built.body.length)), built.type);
    case 'wrongBoundary':
      return send(built.body, 'multipart/form-data; boundary=not-the-boundary');
    case 'lfOnly':
      return send(Buffer.from(built.body.toString('latin1').replace(/\r\n/g, '\n'), 'latin1'), built.type);
  }
}

/** A stored submission holds exactly what the model sent (but `replaced`, which was sent as something else). */
function expectStored(sub: Submission | undefined, m: Model, replaced?: string) {
  expect(sub).toBeDefined();
  const check = (field: string, actual: unknown, expected: unknown) => {
    if (field !== replaced) expect(actual, field).toEqual(expected);
  };
  check('image', sub!.image, m.image);
  check('work_id', sub!.workId, m.work_id ?? null);
  check('callback', sub!.callbackUrl, m.callback ?? null);
  check('params', sub!.params, m.params ?? {});
  check('student_id', sub!.studentId, m.student_id ?? null);
  check('course_id', sub!.courseId, m.course_id ?? null);
  check('assignment_id', sub!.assignmentId, m.assignment_id ?? null);
  if (!['max_grade', 'format', 'results_file'].includes(replaced ?? '')) {
    expect(sub!.grading.maxGrade).toBe(m.max_grade);
    expect(sub!.grading.format).toBe(m.format ?? 'auto');
  }
  expect(sub!.file).toMatchObject({ name: m.file.name, size: m.file.content.length });
}

describe('property: generated bodies never get a 5xx and are never cut', () => {
  it('posts valid, mutated, duplicated, oversize, mistyped and broken bodies (JSON and multipart)', async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(modelArb, mutationArb, fc.boolean(), async (m, mut, asJson) => {
        const res = await postModel(m, mut, asJson && mut.kind !== 'duplicate' && mut.kind !== 'framing');
        seen.set(`${res.status}`, (seen.get(`${res.status}`) ?? 0) + 1);
        expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.body, JSON.stringify(res.body).slice(0, 500)).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
        }
        if (mut.kind === 'none') expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(202);
        if (res.status === 202 || res.status === 200) {
          // Accepted: every field arrived whole (a body cut after its last part may still be whole).
          expectStored(await stack.server.store.get('test', res.body.id), m, mut.kind === 'wrongType' ? mut.field : undefined);
        }
      }),
      { numRuns: 150, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31), endOnFailure: true },
    );
    expect(seen.get('202') ?? 0).toBeGreaterThan(20);
  }, 120_000);
});

describe('every accepted submission is graded (finding 4, rows 348–350)', () => {
  // The stall watch's timer is off; the test sweeps.
  const graded = useStack('collide', { stallWatch: { intervalSeconds: 3600, minAgeSeconds: 0, batch: 50, taskAttempts: 3 } });
  const client = useTemporalClient(graded);
  const respond = (grade: number) => b64file('grade.sh', `echo '{"success": true, "grade": ${grade}}'`);

  const done = (b: Record<string, any>) => b.status === 'completed';

  it('grades a submission whose work_id is an earlier submission\'s id, and the earlier one once', async () => {
    const first = await graded.post({ image: SCRIPT_RUNNER, file: respond(1) });
    expect(first.status).toBe(202);
    const second = await graded.post({ image: SCRIPT_RUNNER, work_id: first.body.id, file: respond(2) });
    expect(second.status).toBe(202);
    expect(second.body.id).not.toBe(first.body.id);
    const [a, b] = await Promise.all([graded.waitFor(first.body.id as string, done), graded.waitFor(second.body.id as string, done)]);
    expect(a.result).toMatchObject({ grade: 1 });
    expect(b.result).toMatchObject({ grade: 2 });
    expect(a.attempts).toHaveLength(1);
    expect(b.attempts).toHaveLength(1);
    // Distinct, readable workflow ids.
    const stored = await graded.server.store.get('test', second.body.id as string);
    expect(stored!.workflowId).toBe(`submission/test/w/${first.body.id}`);
    expect((await graded.server.store.get('test', first.body.id as string))!.workflowId).toBe(`submission/test/id/${first.body.id}`);
  });

  /** A row as the old scheme stored it: its workflow id is another submission's. */
  async function legacyRow(workflowId: string, grade: number, opts: { workId?: string; queued?: boolean } = {}): Promise<Submission> {
    const content = Buffer.from(`echo '{"success": true, "grade": ${grade}}'`);
    const { submission } = await graded.server.store.create({
      id: randomUUID(),
      platformId: 'test',
      ...(opts.workId ? { workId: opts.workId } : {}),
      workflowId,
      image: SCRIPT_RUNNER,
      flavour: 'default',
      params: {},
      grading: { format: 'auto' },
      file: { name: 'grade.sh', sha256: (await import('node:crypto')).createHash('sha256').update(content).digest('hex'), content },
    });
    // The old start took the other's workflow for its own and marked the row started.
    if (opts.queued) await graded.server.store.markQueued([submission.id]);
    return submission;
  }

  it('a start that finds another submission\'s workflow does not count it as started: it moves and grades', async () => {
    const owner = await graded.post({ image: SCRIPT_RUNNER, work_id: uniq('owner'), file: respond(3) });
    const ownerWorkflow = (await graded.server.store.get('test', owner.body.id as string))!.workflowId;
    await graded.waitFor(owner.body.id as string, done);
    // A row of the old scheme whose work_id "w/<x>" gave it the same workflow id, not yet started.
    const workId = `w/${ownerWorkflow.split('/w/')[1]}`;
    const victim = await legacyRow(ownerWorkflow, 4, { workId });
    // Its platform POSTs it again (same content): the duplicate answer starts a row that is still `received`.
    const again = await graded.post({ image: SCRIPT_RUNNER, work_id: workId, file: respond(4) });
    expect(again).toMatchObject({ status: 200, body: { id: victim.id, duplicate: true } });
    const body = await graded.waitFor(victim.id, done);
    expect(body.result).toMatchObject({ grade: 4 });
    expect((await graded.server.store.get('test', victim.id))!.workflowId).toBe(ownWorkflowId('test', victim.id));
    expect(await workflowOwner(client, 'default', ownWorkflowId('test', victim.id))).toBe(victim.id);
    expect((await graded.get(owner.body.id as string)).body.attempts).toHaveLength(1);
  });

  it('the stall watch repairs a submission left under another\'s workflow (as the old code left it), once, and it is graded', async () => {
    const owner = await graded.post({ image: SCRIPT_RUNNER, file: respond(5) });
    const ownerWorkflow = (await graded.server.store.get('test', owner.body.id as string))!.workflowId;
    await graded.waitFor(owner.body.id as string, done);
    // The collision the old way: work_id = the owner's id, workflow id submission/test/<that id>, marked started.
    const victim = await legacyRow(ownerWorkflow, 6, { workId: owner.body.id as string, queued: true });
    expect((await graded.get(victim.id)).body.status).toBe('queued');

    // Two sweeps at once, as two servers would: one repair, one grading.
    const [s1, s2] = await Promise.all([graded.server.stallWatch.sweep(), graded.server.stallWatch.sweep()]);
    const mine = [...s1, ...s2].filter((s) => s.submissionId === victim.id);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((s) => s.action === 'repaired')).toBe(true);
    const body = await graded.waitFor(victim.id, done);
    expect(body.result).toMatchObject({ grade: 6 });
    expect(body.attempts).toHaveLength(1);
    expect(body).not.toHaveProperty('problem');
    expect((await graded.get(owner.body.id as string)).body.attempts).toHaveLength(1);
    expect(await graded.server.stallWatch.sweep()).toEqual([]);
  });

  it('a regrade of such a submission grades it, not the submission whose workflow it shared', async () => {
    const owner = await graded.post({ image: SCRIPT_RUNNER, file: respond(7) });
    const ownerWorkflow = (await graded.server.store.get('test', owner.body.id as string))!.workflowId;
    await graded.waitFor(owner.body.id as string, done);
    const victim = await legacyRow(ownerWorkflow, 8, { workId: owner.body.id as string, queued: true });
    expect((await graded.regrade(victim.id)).status).toBe(202);
    const body = await graded.waitFor(victim.id, done);
    expect(body.result).toMatchObject({ grade: 8 });
    expect((await graded.get(owner.body.id as string)).body.attempts).toHaveLength(1);
  });

  it('reports loudly, and shows in GET, a submission it cannot repair', async () => {
    const owner = await graded.post({ image: SCRIPT_RUNNER, file: respond(9) });
    await graded.waitFor(owner.body.id as string, done);
    // Even its own id is taken by the owner's workflow: start one there for the owner.
    const victimId = randomUUID();
    const ownId = ownWorkflowId('test', victimId);
    const ownerRow = (await graded.server.store.get('test', owner.body.id as string))!;
    await graded.server.store.moveWorkflowId(ownerRow.id, ownerRow.workflowId, ownId);
    expect((await graded.regrade(ownerRow.id)).status).toBe(202); // a run of the owner under the victim's own id
    await graded.waitFor(ownerRow.id, (b) => b.status === 'completed' && b.attempts.length === 2);
    const content = Buffer.from('echo');
    await graded.server.store.create({
      id: victimId,
      platformId: 'test',
      workflowId: ownId,
      image: SCRIPT_RUNNER,
      flavour: 'default',
      params: {},
      grading: { format: 'auto' },
      file: { name: 'grade.sh', sha256: (await import('node:crypto')).createHash('sha256').update(content).digest('hex'), content },
    });
    await graded.server.store.markQueued([victimId]);
    let found = (await graded.server.stallWatch.sweep()).filter((s) => s.submissionId === victimId);
    for (let i = 0; i < 10 && found.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 300)); // the watch is periodic: a later sweep finds it
      found = (await graded.server.stallWatch.sweep()).filter((s) => s.submissionId === victimId);
    }
    expect(found).toEqual([expect.objectContaining({ action: 'foreign' })]);
    const body = (await graded.get(victimId)).body;
    expect(body.status).toBe('queued');
    expect(body.problem).toMatch(/stalled/);
    expect(body.problem).toContain(ownerRow.id);
  });

  it('keeps old rows working: a row stored under the old scheme is started, graded and regraded under its stored id', async () => {
    const workId = uniq('old');
    const oldId = `submission/test/${workId}`; // the scheme before w/ and id/
    const row = await legacyRow(oldId, 10, { workId });
    const again = await graded.post({ image: SCRIPT_RUNNER, work_id: workId, file: respond(10) });
    expect(again).toMatchObject({ status: 200, body: { id: row.id } });
    await graded.waitFor(row.id, done);
    expect(await workflowOwner(client, 'default', oldId)).toBe(row.id);
    expect((await graded.regrade(row.id)).status).toBe(202);
    const body = await graded.waitFor(row.id, (b) => b.status === 'completed' && b.attempts.length === 2);
    expect(body.attempts.map((a: { attempt: number }) => a.attempt)).toEqual([1, 2]);
    expect((await graded.server.store.get('test', row.id))!.workflowId).toBe(oldId);
    expect(submissionWorkflowId('test', { id: row.id, workId })).toBe(`submission/test/w/${workId}`);
  });
});
