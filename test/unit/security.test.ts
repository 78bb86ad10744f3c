import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signWebhook, webhookId } from '../../src/activities/callback/sign';
import { checkCallbackUrl, forbiddenAddress } from '../../src/security/callback-url';
import { parseParams } from '../../src/api/intake';
import { loadConfig } from '../../src/config/load';

describe('callback URL guard', () => {
  it.each(['10.1.2.3', '192.168.0.1', '172.16.5.5', '169.254.169.254', '0.0.0.0', '::ffff:10.0.0.1', 'fe80::1', 'fc00::1', '100.64.0.1'])(
    'refuses %s', (ip) => expect(forbiddenAddress(ip, true)).toBeDefined(),
  );
  it('allows public addresses, and loopback only when asked', () => {
    expect(forbiddenAddress('93.184.216.34', false)).toBeUndefined();
    expect(forbiddenAddress('127.0.0.1', false)).toBeDefined();
    expect(forbiddenAddress('127.0.0.1', true)).toBeUndefined();
    expect(forbiddenAddress('::1', true)).toBeUndefined();
  });
  it('refuses credentials, other schemes and names that resolve to loopback', async () => {
    expect(await checkCallbackUrl('http://u:p@93.184.216.34/', false)).toMatch(/credentials/);
    expect(await checkCallbackUrl('file:///etc/passwd', false)).toMatch(/http/);
    expect(await checkCallbackUrl('http://localhost:9/', false)).toMatch(/forbidden/);
    expect(await checkCallbackUrl('http://[::1]:9/', true)).toBeUndefined();
  });
});

describe('Standard Webhooks signature', () => {
  it('verifies with the reference verifier and keeps one id per attempt', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = JSON.stringify({ success: true });
    const headers = signWebhook(secret, webhookId('s1', 2), body);
    expect(headers['webhook-id']).toBe('msg_s1_2');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual({ success: true });
    expect(() => new Webhook(secret).verify(body + ' ', { ...headers })).toThrow();
  });
});

describe('params', () => {
  it('parses correctomatic strings and objects', () => {
    expect(parseParams('a=1,B_2=x=y')).toEqual({ a: '1', B_2: 'x=y' });
    expect(parseParams({ N: 3 })).toEqual({ N: '3' });
    expect(parseParams('{"K":"v"}')).toEqual({ K: 'v' });
    expect(() => parseParams('1bad=2')).toThrow(/params/);
  });
});

describe('configuration', () => {
  it('fills defaults and names a bad field', () => {
    const c = loadConfig({});
    expect(c.api.port).toBe(3000);
    expect(c.flavours.default).toMatchObject({ memoryMb: 256, timeLimitSeconds: 60 });
    expect(() => loadConfig({ GRADEFLOW_API_PORT: 'abc' })).toThrow(/GRADEFLOW_API_PORT/);
    expect(() => loadConfig({}, { flavours: { default: { memoryMb: 'lots' } } } as never)).toThrow(/flavours\.default\.memoryMb/);
    expect(() => loadConfig({}, { platforms: [{ id: 'x', apiKeys: ['k'.repeat(20)], callbackSecret: 'nope' }] } as never)).toThrow(
      /platforms\[0\]\.callbackSecret/,
    );
  });

  it('accepts the example deployment config', () => {
    const c = loadConfig({ GRADEFLOW_CONFIG: path.resolve(__dirname, '../../deploy/config.example.json') });
    expect(c.flavours.sandboxed).toMatchObject({ runtime: 'runsc', allowRoot: false });
    expect(c.archives.maxEntries).toBe(10000);
  });
});
