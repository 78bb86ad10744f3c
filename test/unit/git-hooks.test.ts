import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { githubSignatureValid, gitlabTokenValid } from '../../src/git/hook-signatures';
import { branchOf, isDeletion, PushEventInvalid, readPushEvent } from '../../src/git/push-event';
import { branchMatches, repositoryMatches, repositoryPatternProblem } from '../../src/git/repository-patterns';

const fixture = (name: string): unknown => JSON.parse(readFileSync(path.join(__dirname, '../fixtures/hooks', name), 'utf8'));

describe('repository and branch patterns', () => {
  it('a pattern is a glob on the path with its namespace: * stays in one segment, ** crosses, case is ignored', () => {
    expect(repositoryMatches(['course/lab1-*'], 'course/lab1-alice')).toBe(true);
    expect(repositoryMatches(['course/lab1-*'], 'Course/Lab1-Alice')).toBe(true);
    expect(repositoryMatches(['course/lab1-*'], 'course/lab2-alice')).toBe(false);
    expect(repositoryMatches(['course/lab1-*'], 'course/sub/lab1-alice')).toBe(false);
    expect(repositoryMatches(['course/**/lab1-*'], 'course/group-a/alice/lab1-x')).toBe(true);
    expect(repositoryMatches(['other/*', 'course/lab1-*'], 'course/lab1-bob')).toBe(true);
    expect(repositoryMatches([], 'course/lab1-bob')).toBe(false);
  });

  it('branches match exactly or by glob, with case', () => {
    expect(branchMatches(['main'], 'main')).toBe(true);
    expect(branchMatches(['main'], 'Main')).toBe(false);
    expect(branchMatches(['release/*'], 'release/1.0')).toBe(true);
    expect(branchMatches(['main'], 'feature')).toBe(false);
  });

  it('patterns without a namespace or with other characters are refused', () => {
    expect(repositoryPatternProblem('lab1-*')).toMatch(/namespace/);
    expect(repositoryPatternProblem('course/lab 1')).toMatch(/characters/);
    expect(repositoryPatternProblem('course/lab1-*')).toBeUndefined();
  });
});

describe('hook secrets', () => {
  it("GitLab's token is compared whole", () => {
    expect(gitlabTokenValid('s3cret-token-0123', 's3cret-token-0123')).toBe(true);
    expect(gitlabTokenValid('s3cret-token-012', 's3cret-token-0123')).toBe(false);
    expect(gitlabTokenValid(undefined, 's3cret-token-0123')).toBe(false);
  });

  it("GitHub's signature is the HMAC-SHA256 of the raw bytes", () => {
    const body = Buffer.from('{"ref":"refs/heads/main"}');
    const sig = `sha256=${createHmac('sha256', 'webhook-secret-1234').update(body).digest('hex')}`;
    expect(githubSignatureValid(sig, body, 'webhook-secret-1234')).toBe(true);
    expect(githubSignatureValid(sig.toUpperCase().replace('SHA256=', 'sha256='), body, 'webhook-secret-1234')).toBe(true);
    expect(githubSignatureValid(sig, Buffer.from('{"ref": "refs/heads/main"}'), 'webhook-secret-1234')).toBe(false);
    expect(githubSignatureValid(sig, body, 'webhook-secret-5678')).toBe(false);
    expect(githubSignatureValid('sha1=abc', body, 'webhook-secret-1234')).toBe(false);
    expect(githubSignatureValid(undefined, body, 'webhook-secret-1234')).toBe(false);
  });
});

describe('push events as GitLab and GitHub document them', () => {
  it("GitLab's push hook", () => {
    const push = readPushEvent('gitlab', 'Push Hook', fixture('gitlab-push.json'));
    expect(push).toEqual({
      repository: 'mike/diaspora',
      ref: 'refs/heads/master',
      after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
      defaultBranch: 'master',
      pusher: 'jsmith',
    });
    expect(branchOf(push!.ref)).toBe('master');
    expect(readPushEvent('gitlab', 'Tag Push Hook', { object_kind: 'tag_push' })).toBeUndefined();
  });

  it("GitHub's push event (the documented one deletes its branch)", () => {
    const push = readPushEvent('github', 'push', fixture('github-push.json'));
    expect(push).toMatchObject({ repository: 'Codertocat/Hello-World', ref: 'refs/heads/main', defaultBranch: 'main', pusher: 'Codertocat' });
    expect(isDeletion(push!)).toBe(true);
    expect(readPushEvent('github', 'ping', { zen: 'x' })).toBeUndefined();
  });

  it('a missing or malformed field names itself', () => {
    const body = fixture('gitlab-push.json') as Record<string, any>;
    body.project.path_with_namespace = 'mike/../../etc';
    expect(() => readPushEvent('gitlab', 'Push Hook', body)).toThrow(PushEventInvalid);
    try {
      readPushEvent('github', 'push', { ref: 'refs/heads/main', repository: { full_name: 'a/b' } });
    } catch (err) {
      expect((err as PushEventInvalid).field).toBe('after');
    }
    expect.assertions(2);
  });
});

describe('gitHooks in the configuration', () => {
  const platform = (id: string, secret: string, extra: Record<string, unknown> = {}) => ({
    id,
    apiKeys: [`key-${id}-0123456789abcdef`],
    callbackSecret: 'whsec_dGVzdHRlc3R0ZXN0dGVzdA==',
    images: ['gradeflow/example-*'],
    gitHooks: { gitlab: { secret, gitUrl: 'https://gitlab.example.edu', ...extra } },
  });

  it('defaults are filled in; a secret two platforms share, or password with passwordEnv, stops start-up naming the field', () => {
    const config = loadConfig({}, { platforms: [platform('a', 'secret-of-a-0123456789')] } as never);
    expect(config.platforms[0]!.gitHooks!.gitlab).toMatchObject({ studentId: 'pusher', allowLoopback: false, fetchTimeoutMs: 8000 });
    expect(() => loadConfig({}, { platforms: [platform('a', 'same-secret-0123456789'), platform('b', 'same-secret-0123456789')] } as never)).toThrow(
      /platforms\[1\]\.gitHooks\.gitlab\.secret/,
    );
    expect(() => loadConfig({}, { platforms: [platform('a', 'secret-of-a-0123456789', { password: 'p', passwordEnv: 'P' })] } as never)).toThrow(
      /platforms\[0\]\.gitHooks\.gitlab/,
    );
    expect(() => loadConfig({}, { platforms: [platform('a', 'secret-of-a-0123456789', { gitUrl: 'https://user:pw@gitlab.example.edu' })] } as never)).toThrow(/gitUrl/);
  });
});
