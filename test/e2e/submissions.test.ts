import { Client, Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useReceiver, useStack } from '../helpers/hooks';
import { b64file, leftoverContainers } from '../helpers/stack';

/** A submission for the script-runner image: the script is the grader. */
const script = (body: string) => b64file('grade.sh', body);
const respond = (json: string) => `cat <<'JSON'\n${json}\nJSON\n`;

const stack = useStack('submissions');
const receiver = useReceiver(stack);

describe('POST /v1/submissions → workflow → container → signed callback', () => {
  it('grades the example submission and delivers a signed correctomatic callback', async () => {
    const form = new FormData();
    form.set('image', 'gradeflow/example-sum:2');
    form.set('work_id', 'example-1');
    form.set('callback', receiver.url('/example'));
    form.set('assignment_id', 'hw1');
    form.set('file', new Blob(['#!/bin/sh\necho $(( $1 + $2 ))\n']), 'sum.sh');
    const res = await stack.postForm(form);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ work_id: 'example-1', status: 'queued' });
    const id = res.body.id as string;

    const cb = await receiver.waitForOne((c) => c.body.work_id === 'example-1');
    expect(cb.verified).toBe(true);
    expect(cb.body).toEqual({
      success: true,
      work_id: 'example-1',
      submission_id: id,
      attempt: 1,
      grade: 10,
      comments: ['All 5 cases pass.'],
      tests: [],
      format: 'correctomatic',
      // The grader image that graded it; a local image has no digest.
      image: 'gradeflow/example-sum:2',
      image_digest: null,
    });
    expect(cb.headers['webhook-id']).toBe(`msg_${id}_1`);

    const done = await stack.waitFor(id, (b) => b.status === 'completed');
    expect(done.result).toMatchObject({ success: true, grade: 10, exit_code: 0 });
    expect(done.attempts).toHaveLength(1);
    expect(done.attempts[0]).toMatchObject({ attempt: 1, host: stack.hostId, delivery: { status: 'delivered', tries: 1 } });
    expect(done.attempts[0].timings.graded_at).toBeTruthy();
  });

  it('reads the last separator block out of surrounding noise', async () => {
    const body = [
      'echo "compiling…"',
      'echo "--BEGIN CORRECTOMATIC RESPONSE--"',
      'echo \'{"success": true, "grade": 1}\'',
      'echo "--END CORRECTOMATIC RESPONSE--"',
      'echo "noise in between"; echo "warning: x" >&2',
      'echo "--BEGIN CORRECTOMATIC RESPONSE--"',
      respond('{"success": true, "grade": 7.5, "comments": ["ok"]}'),
      'echo "--END CORRECTOMATIC RESPONSE--"',
      'echo "trailing noise"',
    ].join('\n');
    const res = await stack.post({ image: SCRIPT_RUNNER, file: script(body) });
    expect(res.status).toBe(202);
    const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'completed');
    expect(done.result).toMatchObject({ success: true, grade: 7.5, comments: ['ok'] });
    expect(done.result.stderr.text).toContain('warning: x');
  });

  it('turns garbage output into success:false with a grader-side reason', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, file: script('echo "this is not json"; echo "{broken"') });
    const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'completed');
    expect(done.result).toMatchObject({ success: false, reason: 'invalid_response', origin: 'grader' });
    expect(done.result.error).toMatch(/not valid JSON/);
  });

  it('rejects a response that breaks the schema, naming the problem', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, file: script(respond('{"success": true, "grade": "ten"}')) });
    const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'completed');
    expect(done.result).toMatchObject({ success: false, reason: 'invalid_response' });
    expect(done.result.error).toMatch(/grade/);
  });

  it('reports a crash (non-zero exit, no response) with its exit code', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, file: script('echo "segfault-ish" >&2; exit 3') });
    const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'completed');
    expect(done.result).toMatchObject({ success: false, reason: 'crashed', origin: 'student', exit_code: 3 });
  });

  it('kills a grading within 2 s of its time limit and says so', async () => {
    const res = await stack.post({
      image: SCRIPT_RUNNER,
      file: script('trap "" TERM; echo started; sleep 60'),
      callback: receiver.url('/timeout'),
      work_id: 'timeout-1',
      limits: { time_limit_seconds: 3 },
    });
    const cb = await receiver.waitForOne((c) => c.body.work_id === 'timeout-1');
    expect(cb.body).toMatchObject({ success: false, reason: 'time_limit_exceeded', origin: 'student', attempt: 1 });
    const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'completed');
    expect(done.result.stdout.text).toContain('started');
    // Docker's own start and finish times: the limit, and at most 2 s more.
    expect(done.result.duration_ms).toBeGreaterThanOrEqual(3000);
    expect(done.result.duration_ms).toBeLessThan(5000);
  });

  it('lets a submission tighten its flavour limits, never loosen them', async () => {
    const looser = await stack.post({ image: SCRIPT_RUNNER, file: script('true'), limits: { memory_mb: 4096 } });
    expect(looser.status).toBe(400);
    expect(looser.body).toMatchObject({ error: { field: 'limits.memory_mb' } });
    expect((looser.body as any).error.message).toMatch(/only tighten the flavour's limit of 128/);
    const unknown = await stack.post({ image: SCRIPT_RUNNER, file: script('true'), limits: { gpus: 1 } });
    expect(unknown.body).toMatchObject({ error: { field: 'limits.gpus' } });
    const form = new FormData();
    form.set('image', SCRIPT_RUNNER);
    form.set('limits', '{"pids": 8}');
    form.set('file', new Blob(['p=$(cat /sys/fs/cgroup/pids/pids.max)\n', 'echo "{\\"success\\": true, \\"grade\\": $p}"\n']), 'grade.sh');
    const tight = await stack.postForm(form);
    expect(tight.status).toBe(202);
    const done = await stack.waitFor(tight.body.id as string, (b) => b.status === 'completed');
    expect(done.result).toMatchObject({ success: true, grade: 8 });
  });

  it('answers the same platform + work_id with the same id and grades once', async () => {
    const body = { image: SCRIPT_RUNNER, work_id: 'dup-1', callback: receiver.url('/dup'), file: script(respond('{"success":true,"grade":3}')) };
    const first = await stack.post(body);
    const second = await stack.post(body);
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ id: first.body.id, duplicate: true });
    await stack.waitFor(first.body.id as string, (b) => b.status === 'completed');
    const third = await stack.post(body);
    expect(third).toMatchObject({ status: 200, body: { id: first.body.id, status: 'completed' } });
    await new Promise((r) => setTimeout(r, 1000));
    expect(receiver.received.filter((c) => c.body.work_id === 'dup-1')).toHaveLength(1);
  });

  it('refuses a reused work_id for different content (409 naming work_id)', async () => {
    const a = await stack.post({ image: SCRIPT_RUNNER, work_id: 'dup-2', file: script('echo 1') });
    const b = await stack.post({ image: SCRIPT_RUNNER, work_id: 'dup-2', file: script('echo 2') });
    expect(a.status).toBe(202);
    expect(b.status).toBe(409);
    expect(b.body).toMatchObject({ error: { code: 'work_id_conflict', field: 'work_id' } });
  });

  it('keeps another platform out (404) and unknown keys out (401)', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, file: script('echo') });
    const other = await stack.get(res.body.id as string, stack.otherApiKey);
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ error: { code: 'not_found' } });
    const anon = await stack.get(res.body.id as string, 'not-a-key-at-all');
    expect(anon.status).toBe(401);
    expect(anon.body).toMatchObject({ error: { code: 'unauthorized' } });
  });
});

describe('small files travel in the workflow, larger ones are fetched by the grading host', () => {
  it('inlines a file up to the limit and fetches one above it; both grade the same', async () => {
    const connection = await Connection.connect({ address: stack.config.temporal.address! });
    try {
      const client = new Client({ connection });
      const INLINE_FILE_BYTES = stack.config.server.inlineFileBytes;
      for (const [workId, bytes] of [['inline-small', INLINE_FILE_BYTES], ['inline-large', INLINE_FILE_BYTES + 1]] as const) {
        const body = `echo '{"success": true, "grade": ${bytes}}'\n`;
        const padded = body + '#'.repeat(bytes - body.length); // a shell comment, to the exact size
        const res = await stack.post({ image: SCRIPT_RUNNER, work_id: workId, callback: receiver.url(), file: b64file('grade.sh', padded) });
        expect(res.status).toBe(202);
        const cb = await receiver.waitForOne((c) => c.body.work_id === workId);
        expect(cb.body).toMatchObject({ success: true, grade: bytes });
        const history = await client.workflow.getHandle(`submission/test/w/${workId}`).fetchHistory();
        const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes)!.activityTaskScheduledEventAttributes!;
        const [spec] = scheduled.input!.payloads!.map((p) => JSON.parse(Buffer.from(p.data!).toString('utf8')) as { file: Record<string, unknown> });
        if (bytes <= INLINE_FILE_BYTES) expect(Buffer.from(spec!.file.inlineBase64 as string, 'base64').toString()).toBe(padded);
        else expect(spec!.file).not.toHaveProperty('inlineBase64');
      }
    } finally {
      await connection.close();
    }
  });
});

describe('bad input gets a 4xx naming the field', () => {
  const cases: Array<[string, Record<string, unknown>, number, string]> = [
    ['missing image', { file: b64file('a.sh', 'x') }, 400, 'image'],
    ['bad image', { image: 'UPPER/Case!!', file: b64file('a.sh', 'x') }, 400, 'image'],
    ['missing file', { image: SCRIPT_RUNNER }, 400, 'file'],
    ['path in file name', { image: SCRIPT_RUNNER, file: b64file('../etc/passwd', 'x') }, 400, 'file'],
    ['bad base64', { image: SCRIPT_RUNNER, file: { name: 'a.sh', content_base64: '***' } }, 400, 'file.content_base64'],
    ['unknown flavour', { image: SCRIPT_RUNNER, flavour: 'gpu', file: b64file('a.sh', 'x') }, 400, 'flavour'],
    ['callback not a URL', { image: SCRIPT_RUNNER, callback: 'not a url', file: b64file('a.sh', 'x') }, 400, 'callback'],
    ['callback to a private address', { image: SCRIPT_RUNNER, callback: 'http://10.0.0.1/cb', file: b64file('a.sh', 'x') }, 400, 'callback'],
    ['callback to metadata', { image: SCRIPT_RUNNER, callback: 'http://169.254.169.254/', file: b64file('a.sh', 'x') }, 400, 'callback'],
    ['callback with ftp', { image: SCRIPT_RUNNER, callback: 'ftp://example.com/', file: b64file('a.sh', 'x') }, 400, 'callback'],
    ['bad params', { image: SCRIPT_RUNNER, params: 'novalue', file: b64file('a.sh', 'x') }, 400, 'params'],
    ['reserved param', { image: SCRIPT_RUNNER, params: 'SUBMISSION_FILE=/etc/shadow', file: b64file('a.sh', 'x') }, 400, 'params'],
    ['file over the limit (413, as multipart)', { image: SCRIPT_RUNNER, file: b64file('big.bin', Buffer.alloc(1024 * 1024 + 1)) }, 413, 'file'],
  ];
  it.each(cases)('%s', async (_name, body, status, field) => {
    const res = await stack.post(body);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error: { field } });
    expect(typeof (res.body.error as { message: string }).message).toBe('string');
  });

  it('answers 413 for a multipart file over the limit', async () => {
    const form = new FormData();
    form.set('image', SCRIPT_RUNNER);
    form.set('file', new Blob([Buffer.alloc(1024 * 1024 + 10)]), 'big.bin');
    const res = await stack.postForm(form);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: { field: 'file' } });
  });

  it('answers invalid JSON with 400', async () => {
    const res = await fetch(`${stack.server.url}/v1/submissions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body: '{"image":',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_json' } });
  });
});

describe('params and environment', () => {
  it('passes params as environment variables and nothing of the worker', async () => {
    process.env.GRADEFLOW_TEST_SECRET = 'do-not-leak';
    // gradeflow's documented facts about the grading (docs/graders.md) are the only GRADEFLOW_ names.
    const told = "'^GRADEFLOW_(SUBMISSION_ID|ATTEMPT|CREATED_AT|ASSIGNMENT_ID|STUDENT_ID|COURSE_ID|PREVIOUS_SUBMISSIONS|PREVIOUS_SCORE)='";
    const res = await stack.post({
      image: SCRIPT_RUNNER,
      params: 'MODE=strict,LEVEL=3',
      file: script(`printf '{"success":true,"comments":["%s","%s","%s"]}' "$MODE" "$LEVEL" "$(env | grep -v -E ${told} | grep -c -e GRADEFLOW -e TEMPORAL -e whsec -e do-not-leak)"`),
    });
    const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'completed');
    expect(done.result.comments, JSON.stringify(done.result)).toEqual(['strict', '3', '0']);
  });
});

describe('health', () => {
  it('reports Temporal, Docker and the database', async () => {
    const res = await fetch(`${stack.server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', checks: { database: 'ok', temporal: 'ok', docker: 'ok' } });
  });
});

describe('cleanup', () => {
  it('leaves no container behind', async () => {
    expect(await leftoverContainers(stack.hostId)).toEqual([]);
  });
});
