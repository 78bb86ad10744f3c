import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GitHookServerConfig } from '../../src/config/schema';
import { EXAMPLE_IMAGE_TAGS } from '../../src/setup/images';
import { pushWorkId } from '../../src/api/routes/hooks-push';
import { startGitHttpServer, type GitHttpServer, type ServedRepository } from '../helpers/git-http-server';
import { useStack } from '../helpers/hooks';

/**
 * Push-triggered grading against real parts: GitLab's and GitHub's documented push payloads (fixtures),
 * git's own smart HTTP server (`git http-backend`) on loopback with repositories and commits made by git,
 * and the example pytest grader grading the pushed commit end to end.
 */
const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../fixtures/hooks', name), 'utf8')) as Record<string, any>;
const STATS_PY = readFileSync(path.join(__dirname, '../../examples/pytest-grader/submission/stats.py'), 'utf8');

const stack = useStack('githooks');
let gitServer: GitHttpServer;
const gitlabSecret = `gl-${randomBytes(16).toString('hex')}`;
const githubSecret = `gh-${randomBytes(16).toString('hex')}`;

const hookServer = (secret: string, extra: Partial<GitHookServerConfig> = {}): GitHookServerConfig => ({
  secret,
  gitUrl: gitServer.url,
  username: gitServer.username,
  password: gitServer.password,
  allowLoopback: true,
  studentId: 'pusher',
  fetchTimeoutMs: 20_000,
  maxFetchBytes: 10 * 1024 * 1024,
  maxConcurrentFetches: 4,
  ...extra,
});

beforeAll(async () => {
  gitServer = await startGitHttpServer();
  // The stack's own platform "test" receives the hooks (its config object is the server's).
  stack.config.platforms[0]!.gitHooks = { gitlab: hookServer(gitlabSecret), github: hookServer(githubSecret) };
  const put = await stack.request('PUT', '/v1/assignments/lab1', {
    image: EXAMPLE_IMAGE_TAGS.pytest,
    format: 'junit',
    repositories: ['course/lab1-*'],
  });
  expect(put.status, JSON.stringify(put.body)).toBe(201);
  expect(put.body).toMatchObject({ repositories: ['course/lab1-*'], branches: null });
});
afterAll(async () => {
  await gitServer?.stop();
});

async function postHook(kind: 'gitlab' | 'github', body: unknown, headers: Record<string, string>) {
  const res = await fetch(`${stack.server.url}/v1/hooks/${kind}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** GitLab's documented push event, pointed at a repository and commit of the test's git server. */
function gitlabPush(repo: string, commit: string, opts: { branch?: string; user?: string } = {}) {
  const body = fixture('gitlab-push.json');
  body.after = commit;
  body.checkout_sha = commit;
  body.ref = `refs/heads/${opts.branch ?? 'main'}`;
  body.user_username = opts.user ?? 'alice';
  body.project.path_with_namespace = repo;
  body.project.default_branch = 'main';
  return body;
}
const gitlab = (body: unknown, token = gitlabSecret) =>
  postHook('gitlab', body, { 'x-gitlab-token': token, 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': randomBytes(8).toString('hex') });

/** GitHub's documented push event, pointed at a repository and commit of the test's git server. */
function githubPush(repo: string, commit: string, opts: { branch?: string; user?: string } = {}) {
  const body = fixture('github-push.json');
  body.after = commit;
  body.deleted = false;
  body.ref = `refs/heads/${opts.branch ?? 'main'}`;
  body.repository.full_name = repo;
  body.repository.name = repo.split('/').at(-1);
  body.sender.login = opts.user ?? 'bob';
  return body;
}
const sign = (raw: string, secret = githubSecret) => `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
const github = (body: unknown, event = 'push', secret = githubSecret) => {
  const raw = JSON.stringify(body);
  return postHook('github', raw, { 'x-hub-signature-256': sign(raw, secret), 'x-github-event': event, 'x-github-delivery': randomBytes(8).toString('hex') });
};

describe('a push to a mapped repository is graded', () => {
  let alice: ServedRepository;

  it('GitLab: the pushed commit is fetched, submitted and graded by the example grader; a repeated delivery is the same submission', async () => {
    alice = gitServer.createRepository('course/lab1-alice');
    const commit = alice.commit({ 'stats.py': STATS_PY, 'README.md': 'lab 1\n' }, 'first try');
    const push = gitlabPush(alice.path, commit);
    const res = await gitlab(push);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ work_id: pushWorkId(alice.path, commit), duplicate: false });
    expect(res.body.work_id).not.toContain('alice');
    const done = await stack.waitFor(res.body.id, (b) => b.status === 'completed', 90_000);
    expect(done).toMatchObject({ assignment_id: 'lab1', student_id: 'alice', work_id: pushWorkId(alice.path, commit) });
    // The example's stats.py has one bug: 5 of 8 points, as when it is uploaded (result-formats.test.ts).
    expect(done.result).toMatchObject({ success: true, grade: 5, max_grade: 8, format: 'junit' });

    const fetchesBefore = gitServer.requests.length;
    const again = await gitlab(push);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: res.body.id, duplicate: true });
    expect(gitServer.requests.length).toBe(fetchesBefore); // answered from the record: nothing fetched again
    const list = await stack.request('GET', '/v1/submissions?assignment_id=lab1&student_id=alice');
    expect((list.body.items as unknown[]).length).toBe(1);
  }, 120_000);

  it('GitHub: a signed push is graded; a commit the branch has moved past is still the one graded', async () => {
    const bob = gitServer.createRepository('course/lab1-bob');
    const first = bob.commit({ 'stats.py': STATS_PY }, 'the example, with its bug');
    const fixed = STATS_PY.replace(/def median[\s\S]*?(?=\ndef |\n*$)/, 'def median(xs):\n    s = sorted(xs)\n    n = len(s)\n    if n == 0:\n        raise ValueError("median of an empty list")\n    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2\n');
    expect(fixed).not.toBe(STATS_PY);
    const head = bob.commit({ 'stats.py': fixed }, 'fixed median'); // pushed after `first`: the branch has moved on
    const res = await github(githubPush(bob.path, first));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const done = await stack.waitFor(res.body.id, (b) => b.status === 'completed', 90_000);
    expect(done).toMatchObject({ assignment_id: 'lab1', student_id: 'bob' });
    expect(done.result).toMatchObject({ grade: 5, max_grade: 8 }); // `first`, not the branch's newer head
    // The push of the fix: a submission of its own, graded in full.
    const next = await github(githubPush(bob.path, head));
    expect(next.status, JSON.stringify(next.body)).toBe(202);
    expect(next.body.id).not.toBe(res.body.id);
    const fixedDone = await stack.waitFor(next.body.id, (b) => b.status === 'completed', 90_000);
    expect(fixedDone.result).toMatchObject({ grade: 8, max_grade: 8 });
  }, 120_000);
});

describe('pushes that are not graded, and hooks that are refused', () => {
  it('a wrong or missing GitLab token: 401', async () => {
    const body = gitlabPush('course/lab1-alice', 'a'.repeat(40));
    expect((await gitlab(body, 'not-the-secret-token')).status).toBe(401);
    const missing = await postHook('gitlab', body, { 'x-gitlab-event': 'Push Hook' });
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('unauthorized');
    // The token is checked before the body is read: an unknown sender learns nothing about its body.
    const garbage = await postHook('gitlab', '{not json', { 'x-gitlab-token': 'not-the-secret-token', 'x-gitlab-event': 'Push Hook' });
    expect(garbage.status).toBe(401);
  });

  it('a wrong, missing or stale GitHub signature: 401', async () => {
    const body = githubPush('course/lab1-bob', 'b'.repeat(40));
    expect((await github(body, 'push', 'some-other-secret-value')).status).toBe(401);
    expect((await postHook('github', body, { 'x-github-event': 'push' })).status).toBe(401);
    // Signed, then changed: the signature is of the bytes.
    const raw = JSON.stringify(body);
    const tampered = await postHook('github', raw.replace('lab1-bob', 'lab1-eve'), { 'x-hub-signature-256': sign(raw), 'x-github-event': 'push' });
    expect(tampered.status).toBe(401);
  });

  it('a push to an unmapped repository: 202 ignored, nothing fetched, recorded without the repository or the pusher', async () => {
    const other = gitServer.createRepository('course/lab2-alice');
    const commit = other.commit({ 'stats.py': STATS_PY }, 'lab 2');
    const before = gitServer.requests.length;
    const res = await gitlab(gitlabPush(other.path, commit));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ ignored_reason: 'repository_not_mapped' });
    expect(res.body.id).toBeUndefined();
    expect(gitServer.requests.length).toBe(before);
    const [latest] = await stack.server.gitHooks.recent('test', 1);
    expect(latest).toMatchObject({ kind: 'gitlab', outcome: 'repository_not_mapped', commitSha: commit });
    expect(JSON.stringify(latest)).not.toMatch(/alice|lab2/);
  });

  it('a repository two assignments map: 202 ignored as ambiguous, naming them', async () => {
    const put = await stack.request('PUT', '/v1/assignments/lab1-extra', { image: EXAMPLE_IMAGE_TAGS.pytest, repositories: ['course/lab1-z*'] });
    expect(put.status).toBe(201);
    const res = await gitlab(gitlabPush('course/lab1-zed', 'd'.repeat(40), { user: 'zed' }));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ ignored_reason: 'repository_ambiguous' });
    expect(res.body.message).toContain('lab1, lab1-extra');
  });

  it('a push to a branch the assignment does not grade: 202 ignored; `branches` names the ones it does', async () => {
    const carol = gitServer.createRepository('course/lab1-carol');
    carol.commit({ 'stats.py': STATS_PY }, 'on main');
    const feature = carol.commit({ 'notes.txt': 'wip\n' }, 'on a feature branch', 'feature');
    const res = await gitlab(gitlabPush(carol.path, feature, { branch: 'feature', user: 'carol' }));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ ignored_reason: 'branch_not_configured' });
    const tag = await gitlab({ ...gitlabPush(carol.path, feature), ref: 'refs/tags/v1' });
    expect(tag.body).toMatchObject({ ignored_reason: 'not_a_branch' });
  });

  it("GitHub's documented push of a deleted branch, and its ping: 202 ignored", async () => {
    const deleted = await github(fixture('github-push.json'));
    expect(deleted.status).toBe(202);
    expect(deleted.body).toMatchObject({ ignored_reason: 'branch_deleted' });
    const ping = await github({ zen: 'Keep it logically awesome.', hook_id: 1 }, 'ping');
    expect(ping.status).toBe(202);
    expect(ping.body).toMatchObject({ ignored_reason: 'not_a_push' });
  });

  it('a malformed push: 400 naming the field', async () => {
    const body = gitlabPush('course/lab1-alice', 'not-a-commit');
    const res = await gitlab(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_field', field: 'after' });
    const badPath = await gitlab(gitlabPush('../etc', 'c'.repeat(40)));
    expect(badPath.body.error).toMatchObject({ field: 'project.path_with_namespace' });
  });

  it('a git server on loopback when the platform does not allow it: refused by the SSRF rules, nothing fetched', async () => {
    const dave = gitServer.createRepository('course/lab1-dave');
    const commit = dave.commit({ 'stats.py': STATS_PY }, 'dave');
    const hooks = stack.config.platforms[0]!.gitHooks!;
    const saved = hooks.gitlab!;
    hooks.gitlab = { ...saved, allowLoopback: false };
    try {
      const before = gitServer.requests.length;
      const res = await gitlab(gitlabPush(dave.path, commit, { user: 'dave' }));
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ ignored_reason: 'forbidden_address' });
      expect(gitServer.requests.length).toBe(before);
    } finally {
      hooks.gitlab = saved;
    }
  });

  it('wrong git credentials: 202 repository_not_readable', async () => {
    const erin = gitServer.createRepository('course/lab1-erin');
    const commit = erin.commit({ 'stats.py': STATS_PY }, 'erin');
    const hooks = stack.config.platforms[0]!.gitHooks!;
    const saved = hooks.gitlab!;
    hooks.gitlab = { ...saved, password: 'wrong-password' };
    try {
      const res = await gitlab(gitlabPush(erin.path, commit, { user: 'erin' }));
      expect(res.body).toMatchObject({ ignored_reason: 'repository_not_readable' });
    } finally {
      hooks.gitlab = saved;
    }
  });

  it('a burst of pushes: at most maxConcurrentFetches fetches from the git server at once', async () => {
    const put = await stack.request('PUT', '/v1/assignments/burst', { image: EXAMPLE_IMAGE_TAGS.correctomatic, repositories: ['course/burst-*'] });
    expect(put.status).toBe(201);
    const pushes = ['p1', 'p2', 'p3', 'p4'].map((p) => {
      const repo = gitServer.createRepository(`course/burst-${p}`);
      return gitlabPush(repo.path, repo.commit({ 'sum.sh': 'echo $(($1 + $2))\n' }, p), { user: p });
    });
    const hooks = stack.config.platforms[0]!.gitHooks!;
    const saved = hooks.gitlab!;
    gitServer.packDelayMs = 1500;
    try {
      for (const [limit, pushed] of [[1, pushes.slice(0, 2)], [2, pushes.slice(2)]] as const) {
        hooks.gitlab = { ...saved, maxConcurrentFetches: limit };
        gitServer.maxPackRequestsInFlight = 0;
        const answers = await Promise.all(pushed.map((p) => gitlab(p)));
        for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(202);
        expect(gitServer.maxPackRequestsInFlight).toBe(limit);
      }
    } finally {
      gitServer.packDelayMs = 0;
      hooks.gitlab = saved;
    }
  });

  it('PUT /v1/assignments: repositories need an image; patterns are checked', async () => {
    const noImage = await stack.request('PUT', '/v1/assignments/lab9', { repositories: ['course/lab9-*'] });
    expect(noImage.status).toBe(400);
    expect(noImage.body.error).toMatchObject({ field: 'image' });
    const bad = await stack.request('PUT', '/v1/assignments/lab9', { image: EXAMPLE_IMAGE_TAGS.pytest, repositories: ['lab9 with spaces'] });
    expect(bad.body.error).toMatchObject({ field: 'repositories[0]' });
    const ok = await stack.request('PUT', '/v1/assignments/lab9', { image: EXAMPLE_IMAGE_TAGS.pytest, repositories: ['course/lab9-*'], branches: ['main', 'release/*'] });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ repositories: ['course/lab9-*'], branches: ['main', 'release/*'] });
  });
});
