import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/setup/free-port';
import { EXAMPLE_IMAGE_TAGS } from '../../src/setup/images';
import { pushImage, startRegistry, type RunningRegistry } from '../../src/setup/registry';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useStack, useTemporalClient } from '../helpers/hooks';
import { STACK_LIMITS } from '../helpers/limits';
import { b64file, docker } from '../helpers/stack';

/**
 * Grader images from a registry: a course registry (Debian's docker-registry, on loopback) holds the
 * example grader under `127.0.0.1:PORT/course/example-sum:1`; the API resolves the tag to its digest at
 * intake, the grading host pulls that digest (by the flavour's pull policy) and runs it, every attempt.
 * The local copies of what the registry holds are removed first, so the host really pulls; only
 * references this file created are ever removed (the example images stay).
 */

const SUM_IMAGE = EXAMPLE_IMAGE_TAGS.correctomatic;
const AUTH = { username: 'course-ta', password: `pw-${Math.random().toString(36).slice(2)}` };

const stack = useStack('registry', {
  // One retry of an infrastructure fault (1 s apart), and a pull retried 3 s: a failing pull ends quickly.
  infrastructureRetries: 1,
  worker: { hostId: `registry-${randomBytes(3).toString('hex')}`, slots: 2, shutdownGraceSeconds: 5, reapIntervalSeconds: 60, reapOverdueSeconds: 120,
    healthPort: 0, healthHost: '127.0.0.1', pullRetrySeconds: 3 },
  flavours: {
    default: { ...STACK_LIMITS },
    always: { ...STACK_LIMITS, pullPolicy: 'always' },
    never: { ...STACK_LIMITS, pullPolicy: 'never' },
  },
});
const temporal = useTemporalClient(stack);

let open: RunningRegistry; // no auth
let locked: RunningRegistry; // htpasswd
let openPort: number;
let dir: string;
/** Every reference the tests made on the daemon, removed at the end (tags and digests only: the images are the examples'). */
const made = new Set<string>();

const sum = () => b64file('sum.sh', 'echo $(($1 + $2))\n');

/** Remove a reference (a tag or repo@digest) this file made; the image stays while another name holds it. */
async function untag(ref: string): Promise<void> {
  await docker
    .getImage(ref)
    .remove()
    .catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err;
    });
}

/**
 * A new image of this file's own: `from` with a label no other image has (its layers are `from`'s). Docker
 * remembers which manifest digests it has pushed or pulled and, asked to pull one of those again, does not
 * fetch it: an image the daemon has never seen makes the host's pull a real one.
 */
async function uniqueImage(from: string): Promise<string> {
  const tag = `gradeflow-test/registry-${randomBytes(6).toString('hex')}:1`;
  made.add(tag);
  const pack = tar.pack();
  pack.entry({ name: 'Dockerfile' }, `FROM ${from}\n`);
  pack.finalize();
  const stream = await docker.buildImage(pack as unknown as NodeJS.ReadableStream, { t: tag, labels: { 'dev.gradeflow.test.nonce': tag } });
  const events = await new Promise<Array<{ error?: string }>>((resolve, reject) =>
    docker.modem.followProgress(stream, (err, out) => (err ? reject(err) : resolve(out as Array<{ error?: string }>))),
  );
  const failed = events.find((e) => e.error);
  if (failed) throw new Error(`building ${tag} failed: ${failed.error}`);
  return tag;
}

/** Push a new image made from `from` as `target`, then remove every local name of it: the daemon no longer has it. */
async function push(from: string, target: string, auth?: typeof AUTH): Promise<string> {
  const source = await uniqueImage(from);
  made.add(target);
  const digest = await pushImage(docker, source, target, auth);
  const repo = target.slice(0, target.lastIndexOf(':'));
  made.add(`${repo}@${digest}`);
  for (const ref of [target, `${repo}@${digest}`, source]) await untag(ref);
  return digest;
}

/** Requests the Docker daemon made to the registry (a pull; intake's resolution is the API's own HEAD). */
const daemonRequests = (registry: RunningRegistry): number =>
  registry.log().split('\n').filter((l) => l.includes('"docker/') && l.includes('"GET /v2/')).length;

/** How often the registry served a manifest by digest. */
const manifestGets = (registry: RunningRegistry, digest: string): number =>
  registry.log().split('\n').filter((l) => l.includes('"GET /v2/') && l.includes(`/manifests/${digest}`)).length;

const testPlatform = () => stack.config.platforms.find((p) => p.id === 'test')!;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-registry-'));
  openPort = await freePort();
  open = await startRegistry({ port: openPort, dir: path.join(dir, 'open') });
  locked = await startRegistry({ port: await freePort(), dir: path.join(dir, 'locked'), auth: AUTH });
  // The platform may run the course's repositories on both registries; the API and the host know both
  // (only listed registries are resolved and pulled), the locked one with its credentials.
  const platform = testPlatform();
  platform.images = [...platform.images, `${open.address}/course/*`, `${locked.address}/course/*`];
  stack.config.registries.push({ host: open.address }, { host: locked.address, ...AUTH });
});

afterAll(async () => {
  for (const ref of made) await untag(ref);
  await open?.stop();
  await locked?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a grader image from a registry', () => {
  let digest: string;
  let firstId: string;
  const tagRef = () => `${open.address}/course/example-sum:1`;
  const pinned = () => `${open.address}/course/example-sum@${digest}`;

  it('is resolved to its digest at intake, pulled by the host that lacks it, and grades', async () => {
    digest = await push(SUM_IMAGE, tagRef());
    await expect(docker.getImage(pinned()).inspect()).rejects.toMatchObject({ statusCode: 404 });

    const res = await stack.post({ image: tagRef(), file: sum() });
    expect(res.status).toBe(202);
    firstId = res.body.id as string;
    const done = await stack.waitFor(firstId, (b) => b.status === 'completed');
    expect(done.result).toMatchObject({ success: true, grade: 10 });
    // Stored, shown and carried in the workflow input as the digest.
    expect(done.image).toBe(pinned());
    const stored = (await stack.server.store.get('test', firstId))!;
    expect(stored.image).toBe(pinned());
    const history = await temporal.workflow.getHandle(stored.workflowId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const input = (started?.input?.payloads ?? []).map((p) => Buffer.from(p.data ?? []).toString()).join('\n');
    expect(input).toContain(`"image":"${pinned()}"`);
    expect(input).not.toContain(tagRef());
    // The host pulled it: Docker has it under its digest, and the registry served that manifest.
    expect((await docker.getImage(pinned()).inspect()).RepoDigests).toContain(pinned());
    expect(manifestGets(open, digest)).toBeGreaterThanOrEqual(1);
  });

  it('a regrade runs the digest accepted, after the tag moved to another image', async () => {
    // The tag now names another grader (the script runner: it would run sum.sh as its own grader).
    made.add(tagRef());
    const moved = await pushImage(docker, SCRIPT_RUNNER, tagRef());
    made.add(`${open.address}/course/example-sum@${moved}`);
    await untag(tagRef());
    expect(moved).not.toBe(digest);

    const regrade = await stack.regrade(firstId);
    expect(regrade.status).toBe(202);
    const done = await stack.waitFor(firstId, (b) => b.status === 'completed' && b.attempts.length === 2);
    expect(done.image).toBe(pinned());
    expect(done.result).toMatchObject({ success: true, grade: 10 });

    // A new submission naming the tag gets the tag's new digest.
    const fresh = await stack.post({ image: tagRef(), file: sum() });
    expect(fresh.status).toBe(202);
    expect((await stack.get(fresh.body.id as string)).body.image).toBe(`${open.address}/course/example-sum@${moved}`);
    await stack.waitFor(fresh.body.id as string, (b) => b.status === 'completed' || b.status === 'failed');
  });

  it('policy if-missing does not pull an image the host has; policy always pulls it again', async () => {
    const before = daemonRequests(open);
    const present = await stack.post({ image: pinned(), file: sum() });
    expect((await stack.waitFor(present.body.id as string, (b) => b.status === 'completed')).result).toMatchObject({ grade: 10 });
    expect(daemonRequests(open)).toBe(before);

    const always = await stack.post({ image: pinned(), flavour: 'always', file: sum() });
    expect((await stack.waitFor(always.body.id as string, (b) => b.status === 'completed')).result).toMatchObject({ grade: 10 });
    expect(daemonRequests(open)).toBeGreaterThan(before);
  });

  it("an assignment's pull_policy overrides the flavour's, and stays with its submissions", async () => {
    const bad = await stack.request('PUT', '/v1/assignments/hw-pull-bad', { pull_policy: 'sometimes' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ field: 'pull_policy' });
    const put = await stack.request('PUT', '/v1/assignments/hw-fresh', { image: tagRef(), pull_policy: 'always' });
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ image: tagRef(), pull_policy: 'always' });

    const before = daemonRequests(open);
    const res = await stack.post({ assignment_id: 'hw-fresh', image: pinned(), file: sum() });
    expect(res.status).toBe(202);
    const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'completed');
    expect(done.result).toMatchObject({ grade: 10 });
    expect(done.grading).toMatchObject({ pull_policy: 'always' });
    expect(daemonRequests(open)).toBeGreaterThan(before);
  });

  it('policy never with the image missing: infrastructure_error naming the image', async () => {
    await untag(pinned());
    const res = await stack.post({ image: pinned(), flavour: 'never', file: sum() });
    expect(res.status).toBe(202);
    const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'failed');
    expect(done.result).toMatchObject({ success: false, reason: 'infrastructure_error', origin: 'infrastructure' });
    expect(done.result.error).toContain(`image "${pinned()}" is not on grading host`);
    expect(done.result.error).toContain('pull policy "never"');
  });

  it('a tag the registry does not have is refused at intake (400), nothing stored', async () => {
    const res = await stack.post({ image: `${open.address}/course/no-such-grader:1`, file: sum() });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'image_not_found', field: 'image' });
  });

  it('a registry the config does not list is neither asked nor pulled from: the image must be on the host', async () => {
    const other = `127.0.0.1:${await freePort()}`;
    testPlatform().images = [...testPlatform().images, `${other}/course/*`];
    const res = await stack.post({ image: `${other}/course/example-sum:1`, file: sum() });
    expect(res.status).toBe(202);
    const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'failed');
    expect(done.image).toBe(`${other}/course/example-sum:1`);
    expect(done.result.error).toContain("names no registry listed in this host's registries");
  });
});

describe('a registry that wants credentials', () => {
  let digest: string;
  const pinned = () => `${locked.address}/course/example-sum@${digest}`;

  it('the host pulls with the credentials of its config', async () => {
    digest = await push(SUM_IMAGE, `${locked.address}/course/example-sum:1`, AUTH);
    const res = await stack.post({ image: `${locked.address}/course/example-sum:1`, file: sum() });
    expect(res.status).toBe(202);
    const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'completed');
    expect(done.image).toBe(pinned());
    expect(done.result).toMatchObject({ success: true, grade: 10 });
    // The credentials are in no answer.
    expect(JSON.stringify(done)).not.toContain(AUTH.password);
  });

  it('wrong credentials: the pull fails as infrastructure_error naming the image and the registry answer', async () => {
    // An image the daemon never had (it pulls one it has seen without asking the registry much).
    const fresh = `${locked.address}/course/example-sum@${await push(SUM_IMAGE, `${locked.address}/course/example-sum:2`, AUTH)}`;
    const entry = stack.config.registries.find((r) => r.host === locked.address)!;
    entry.password = 'not-the-password';
    try {
      // Pinned already: intake asks the registry nothing; the host's pull is refused.
      const res = await stack.post({ image: fresh, file: sum() });
      expect(res.status).toBe(202);
      const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'failed');
      expect(done.result).toMatchObject({ success: false, reason: 'infrastructure_error', origin: 'infrastructure' });
      expect(done.result.error).toContain(`could not pull image "${fresh}"`);
      expect(done.result.error).toMatch(/unauthorized|401/i);
      expect(done.result.error).not.toContain('not-the-password');

      // At intake, a tag cannot be resolved with them either: 503, nothing stored.
      const tagged = await stack.post({ image: `${locked.address}/course/example-sum:1`, file: sum() });
      expect(tagged.status).toBe(503);
      expect(tagged.body.error).toMatchObject({ code: 'registry_unavailable' });
      expect((tagged.body.error as { message: string }).message).toMatch(/401 unauthorized/);
    } finally {
      entry.password = AUTH.password;
    }
  });
});

describe('a registry that is down', () => {
  it('at intake: 503 with Retry-After, nothing stored; accepted once it is back', async () => {
    await open.stop();
    const res = await fetch(`${stack.server.url}/v1/submissions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ image: `${open.address}/course/example-sum:1`, work_id: 'while-down', file: sum() }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('30');
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('registry_unavailable');
    expect(body.error.message).toContain(`registry ${open.address} could not be reached`);

    open = await startRegistry({ port: openPort, dir: path.join(dir, 'open') });
    const again = await stack.post({ image: `${open.address}/course/example-sum:1`, work_id: 'while-down', file: sum() });
    expect(again.status).toBe(202);
    expect(again.body.duplicate).toBe(false);
    const accepted = (await stack.get(again.body.id as string)).body.image as string;
    // The tag moves; the platform repeats the POST (it never saw the 202): the same submission, its first digest.
    await push(SUM_IMAGE, `${open.address}/course/example-sum:1`);
    const repeat = await stack.post({ image: `${open.address}/course/example-sum:1`, work_id: 'while-down', file: sum() });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toMatchObject({ id: again.body.id, duplicate: true });
    expect((await stack.get(again.body.id as string)).body.image).toBe(accepted);
    await stack.waitFor(again.body.id as string, (b) => b.status === 'completed' || b.status === 'failed');
  });

  it('when the host pulls: infrastructure_error after the retries, and a regrade once it is back grades', async () => {
    const digest = await push(SUM_IMAGE, `${open.address}/course/example-sum:2`);
    const pinned = `${open.address}/course/example-sum@${digest}`;
    // Accepted (pinned: intake asks the registry nothing), and the registry is down when the host pulls.
    await open.stop();
    const res = await stack.post({ image: pinned, file: sum() });
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    const first = await stack.waitFor(id, (b) => b.status === 'failed');
    expect(first.result).toMatchObject({ reason: 'infrastructure_error', origin: 'infrastructure' });
    expect(first.result.error).toContain('after 2 tries');
    expect(first.result.error).toContain(`could not pull image "${pinned}"`);
    open = await startRegistry({ port: openPort, dir: path.join(dir, 'open') });
    expect((await stack.regrade(id)).status).toBe(202);
    const done = await stack.waitFor(id, (b) => b.status === 'completed' && b.attempts.length === 2);
    expect(done.result).toMatchObject({ success: true, grade: 10 });
    expect(done.image).toBe(pinned);
  });
});
