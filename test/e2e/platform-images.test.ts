import { beforeAll, describe, expect, it } from 'vitest';
import { imageIdentityProblem } from '../../src/security/image-policy';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useReceiver, useStack } from '../helpers/hooks';
import { b64file, docker, OTHER_PLATFORM_IMAGES } from '../helpers/stack';

/**
 * Which images a platform may run, and which params it may set, through the real API and a real grading
 * host. The stack's platforms have different lists: `test` runs the test images (`gradeflow-test/*`, the
 * script runner that plays "test's grader"), `other` only the example graders (`gradeflow/example-*`).
 */

const stack = useStack('images');
const receiver = useReceiver(stack);
let runnerId: string; // sha256:<hex> of test's grader image

const script = (body: string) => b64file('grade.sh', body);
const RESPONSE = `cat <<'JSON'\n{"success": true, "grade": 7, "comments": ["ran"]}\nJSON\n`;

beforeAll(async () => {
  runnerId = (await docker.getImage(SCRIPT_RUNNER).inspect()).Id;
});

const asOther = (body: Record<string, unknown>) => stack.post({ file: script(RESPONSE), ...body }, stack.otherApiKey);
const otherPlatform = () => stack.config.platforms.find((p) => p.id === 'other')!;
const testPlatform = () => stack.config.platforms.find((p) => p.id === 'test')!;

function expectNotAllowed(res: { status: number; body: Record<string, any> }) {
  expect(res.status).toBe(403);
  expect(res.body.error).toMatchObject({ code: 'image_not_allowed', field: 'image' });
  expect(res.body.error.message).toMatch(/image/);
}

describe("a platform runs only the images it is allowed: other cannot run test's grader", () => {
  it('by tag, or by a spelling Docker normalizes to it', async () => {
    expectNotAllowed(await asOther({ image: SCRIPT_RUNNER }));
    expectNotAllowed(await asOther({ image: `docker.io/${SCRIPT_RUNNER}` }));
    expectNotAllowed(await asOther({ image: 'gradeflow-test/script-runner' }));
    // test may, and other may run its own.
    expect((await stack.post({ image: SCRIPT_RUNNER, file: script(RESPONSE) })).status).toBe(202);
    expect((await asOther({ image: 'gradeflow/example-sum:1', file: b64file('sum.sh', 'echo') })).status).toBe(202);
  });

  it('by its bare image id, its sha256: id, or a short id-shaped name', async () => {
    const hex = runnerId.replace(/^sha256:/, '');
    expectNotAllowed(await asOther({ image: hex }));
    expectNotAllowed(await asOther({ image: runnerId }));
    expectNotAllowed(await asOther({ image: hex.slice(0, 12) }));
    expectNotAllowed(await asOther({ image: `sha256:${hex.slice(0, 12)}` }));
    // Not even the platform that may run the repository gets a bare id it was not given as a digest.
    expectNotAllowed(await stack.post({ image: hex.slice(0, 12), file: script(RESPONSE) }));
  });

  it('through an assignment: PUT with an image outside its list is refused', async () => {
    const put = await fetch(`${stack.server.url}/v1/assignments/hw-steal`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${stack.otherApiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ image: SCRIPT_RUNNER }),
    });
    expectNotAllowed({ status: put.status, body: (await put.json()) as Record<string, any> });
    const ok = await fetch(`${stack.server.url}/v1/assignments/hw-own`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${stack.otherApiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ image: 'gradeflow/example-sum:1' }),
    });
    expect(ok.status).toBe(201);
    const bad = await stack.request('PUT', '/v1/assignments/hw-bad', { image: '../etc:1' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_field', field: 'image' });
  });

  it("an assignment's stored image that falls outside the list later is refused at intake", async () => {
    const put = await stack.request('PUT', '/v1/assignments/hw-narrowed', { image: SCRIPT_RUNNER });
    expect(put.status).toBe(201);
    const before = await stack.post({ assignment_id: 'hw-narrowed', file: script(RESPONSE) });
    expect(before.status).toBe(202);
    // The operator narrows test's list (a restart with a new config; here the running config's list is replaced).
    const platform = testPlatform();
    const images = platform.images;
    platform.images = ['gradeflow/example-*'];
    try {
      expectNotAllowed(await stack.post({ assignment_id: 'hw-narrowed', file: script(RESPONSE) }));
    } finally {
      platform.images = images;
    }
  });

  it('a listed digest allows the image by id, checked again and run by the grading host', async () => {
    const platform = otherPlatform();
    platform.images = [...OTHER_PLATFORM_IMAGES, runnerId];
    try {
      const res = await asOther({ image: runnerId.replace(/^sha256:/, '') });
      expect(res.status).toBe(202);
      const id = res.body.id as string;
      const deadline = Date.now() + 40_000;
      let body: Record<string, any> = {};
      while (Date.now() < deadline) {
        body = (await stack.get(id, stack.otherApiKey)).body;
        if (body.status === 'completed' || body.status === 'failed') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(body.result).toMatchObject({ success: true, grade: 7 });
      // A short prefix of the same listed id is still not allowed.
      expectNotAllowed(await asOther({ image: runnerId.slice(0, 19) }));
    } finally {
      platform.images = OTHER_PLATFORM_IMAGES;
    }
  });

  it("the grading host's check: a name Docker resolves as an id prefix is not the image's name", async () => {
    const hex = runnerId.replace(/^sha256:/, '');
    // Docker itself finds test's grader under a short id-shaped name (the attack), and by its tag.
    const byPrefix = await docker.getImage(hex.slice(0, 12)).inspect();
    expect(byPrefix.Id).toBe(runnerId);
    expect(imageIdentityProblem(hex.slice(0, 12), byPrefix)).toMatch(/id prefix/);
    expect(imageIdentityProblem(SCRIPT_RUNNER, await docker.getImage(SCRIPT_RUNNER).inspect())).toBeUndefined();
    expect(imageIdentityProblem(`docker.io/${SCRIPT_RUNNER}`, byPrefix)).toBeUndefined();
    expect(imageIdentityProblem('gradeflow-test/script-runner', byPrefix)).toMatch(/not a name/); // :latest is not its tag
  });
});

describe('image references', () => {
  it.each(['../etc:1', 'UPPER/Case:1', 'a//b', '-x', '--privileged'])('%s is not a reference: 400', async (image) => {
    const res = await stack.post({ image, file: script(RESPONSE) });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_field', field: 'image' });
  });

  it('an image without ENTRYPOINT or CMD ends at once as a grader fault, not an infrastructure error after retries', async () => {
    const started = Date.now();
    const res = await stack.post({ image: 'gradeflow/busybox:1', work_id: 'no-command', callback: receiver.url(), file: script(RESPONSE) });
    expect(res.status).toBe(202);
    const cb = await receiver.waitForOne((c) => c.body.work_id === 'no-command', 30_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(cb.body).toMatchObject({ success: false, reason: 'invalid_response', origin: 'grader', attempt: 1 });
    expect(cb.body.error).toMatch(/could not be started.*no command specified/i);
    // A result, like any grader fault (only infrastructure_error ends as `failed`), after one try.
    const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'completed');
    expect(done.attempts).toHaveLength(1);
    expect(done.result).toMatchObject({ success: false, reason: 'invalid_response', origin: 'grader' });
  });
});

describe('params cannot change how the grader starts', () => {
  it.each(['PYTHONPATH', 'LD_PRELOAD', 'SUBMISSION_FILE', 'RESULTS_FILE', 'NODE_OPTIONS', 'BASH_ENV', 'PATH', 'HOME', 'submission_file'])(
    '%s → 400 naming the param',
    async (name) => {
      const res = await stack.post({ image: SCRIPT_RUNNER, params: { OK: '1', [name]: '/submission' }, file: script(RESPONSE) });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_field', field: 'params' });
      expect((res.body.error as { message: string }).message).toContain(`"${name}"`);
      const form = new FormData();
      form.set('image', SCRIPT_RUNNER);
      form.set('params', `OK=1,${name}=/submission`);
      form.set('file', new Blob([RESPONSE]), 'grade.sh');
      const multipart = await stack.postForm(form);
      expect(multipart.status).toBe(400);
      expect(multipart.body.error).toMatchObject({ code: 'invalid_field', field: 'params' });
    },
  );

  it('a value with a newline cannot forge a second SUBMISSION_FILE line in the environment listing', async () => {
    const res = await stack.post({ image: SCRIPT_RUNNER, params: { MULTI: 'line1\nSUBMISSION_FILE=/etc/passwd' }, file: script(RESPONSE) });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_field', field: 'params' });
    expect((res.body.error as { message: string }).message).toContain('"MULTI"');
  });

  it('ordinary params still reach the grader, and gradeflow sets SUBMISSION_FILE once', async () => {
    const res = await stack.post({
      image: SCRIPT_RUNNER,
      work_id: 'env-once',
      callback: receiver.url(),
      params: { TESTS: 'a b', LEVEL: '3', lang: 'fr' },
      file: script(`n=$(env | grep -c '^SUBMISSION_FILE=')\nprintf '{"success": true, "grade": %s, "comments": ["%s %s %s"]}' "$n" "$TESTS" "$LEVEL" "$lang"\n`),
    });
    expect(res.status).toBe(202);
    const cb = await receiver.waitForOne((c) => c.body.work_id === 'env-once', 30_000);
    expect(cb.body).toMatchObject({ success: true, grade: 1, comments: ['a b 3 fr'] });
  });
});
