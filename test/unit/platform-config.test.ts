import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { platformSecrets, signWebhook } from '../../src/activities/callback/sign';
import { loadConfig } from '../../src/config/load';
import type { PlatformConfig } from '../../src/config/schema';
import { callbackSchemeProblem } from '../../src/security/callback-url';

const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;
const platform = (extra: Partial<PlatformConfig>) => ({ id: 'p', apiKeys: ['k'.repeat(16)], images: ['*'], ...extra }) as PlatformConfig;

describe("a platform's webhook and limit settings", () => {
  it('fills the documented defaults: rate limit 1200 per minute, 10000 unfinished, http allowed', () => {
    const [p] = loadConfig({}, { platforms: [platform({ callbackSecret: whsec() })] }).platforms;
    expect(p).toMatchObject({ rateLimit: { max: 1200, windowMs: 60000 }, maxUnfinished: 10000, callbackHttpsOnly: false });
  });

  it('needs callbackSecret or callbackSecrets; either alone will do', () => {
    expect(() => loadConfig({}, { platforms: [platform({})] })).toThrow(/platforms\[0\]\.callbackSecret" is required/);
    expect(loadConfig({}, { platforms: [platform({ callbackSecrets: [whsec(), whsec()] })] }).platforms).toHaveLength(1);
    expect(() => loadConfig({}, { platforms: [platform({ callbackSecrets: ['not-a-secret'] })] })).toThrow(/callbackSecrets/);
  });

  it('signs with callbackSecret and each of callbackSecrets once, each signature verifying alone', () => {
    const [a, b] = [whsec(), whsec()];
    const secrets = platformSecrets({ callbackSecret: a, callbackSecrets: [b, a] });
    expect(secrets).toEqual([a, b]);
    const body = JSON.stringify({ hello: 'world' });
    const headers = signWebhook(secrets, 'msg_1', body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const s of secrets) expect(new Webhook(s).verify(body, headers as unknown as Record<string, string>)).toEqual({ hello: 'world' });
  });

  it('refuses http callbacks only where callbackHttpsOnly is set', () => {
    expect(callbackSchemeProblem('http://example.com/cb', { callbackHttpsOnly: true })).toMatch(/https/);
    expect(callbackSchemeProblem('https://example.com/cb', { callbackHttpsOnly: true })).toBeUndefined();
    expect(callbackSchemeProblem('http://example.com/cb', {})).toBeUndefined();
  });
});
