import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load';
import { registryCredentials, registryDomain, registryEntry, registryScheme } from '../../src/registry/registries';
import { pinImage, RegistryResolveError } from '../../src/registry/resolve-digest';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('which images are resolved and pulled', () => {
  it('only references naming a registry', () => {
    expect(registryDomain('gradeflow/example-sum:2')).toBeUndefined();
    expect(registryDomain('ubuntu')).toBeUndefined();
    expect(registryDomain('127.0.0.1:5000/course/sum:1')).toBe('127.0.0.1:5000');
    expect(registryDomain(`registry.example.edu/cs101/sum@${DIGEST}`)).toBe('registry.example.edu');
  });

  it('plain HTTP for loopback registries (as Docker), HTTPS otherwise unless marked insecure', () => {
    expect(registryScheme('127.0.0.1:5000')).toBe('http');
    expect(registryScheme('localhost:5000')).toBe('http');
    expect(registryScheme('registry.example.edu')).toBe('https');
    expect(registryScheme('registry.lan:5000', { host: 'registry.lan:5000', insecure: true })).toBe('http');
  });

  it('credentials from the config, the password from the environment when passwordEnv names it', () => {
    const regs = [{ host: 'r.example.edu', username: 'ta', passwordEnv: 'REG_PW' }];
    expect(registryCredentials(registryEntry(regs, 'r.example.edu'), { REG_PW: 's3cret' })).toEqual({ username: 'ta', password: 's3cret' });
    expect(registryCredentials(registryEntry(regs, 'other.example.edu'))).toBeUndefined();
  });

  it('the config refuses a password given twice, or without a username', () => {
    expect(() => loadConfig({}, { registries: [{ host: 'r:5000', username: 'a', password: 'p', passwordEnv: 'P' }] })).toThrow(ConfigError);
    expect(() => loadConfig({}, { registries: [{ host: 'r:5000', password: 'p' }] })).toThrow(/username/);
    expect(() => loadConfig({}, { registries: [{ host: 'r:5000' }, { host: 'r:5000' }] })).toThrow(/twice/);
    expect(loadConfig({}, { flavours: { default: {} } as never }).flavours.default!.pullPolicy).toBe('if-missing');
  });
});

describe('pinImage: a tag resolved to its digest through the registry API', () => {
  let server: http.Server;
  let host: string;
  const seen: Array<{ method?: string; url?: string; accept?: string; auth?: string }> = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ method: req.method, url: req.url, accept: req.headers.accept, auth: req.headers.authorization });
      if (req.url === '/v2/course/sum/manifests/1') {
        res.writeHead(200, { 'docker-content-digest': DIGEST }).end();
      } else if (req.url === '/v2/course/locked/manifests/1') {
        if (req.headers.authorization === `Basic ${Buffer.from('ta:pw').toString('base64')}`) res.writeHead(200, { 'docker-content-digest': DIGEST }).end();
        else res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('asks HEAD /v2/<name>/manifests/<tag> with the manifest types, and keeps the repository', async () => {
    expect(await pinImage(`${host}/course/sum:1`, [{ host }], 2000)).toBe(`${host}/course/sum@${DIGEST}`);
    const req = seen.at(-1)!;
    expect(req).toMatchObject({ method: 'HEAD', url: '/v2/course/sum/manifests/1' });
    expect(req.accept).toContain('application/vnd.docker.distribution.manifest.v2+json');
    expect(req.accept).toContain('application/vnd.oci.image.index.v1+json');
  });

  it('asks once for identical resolutions in flight at once, and again for a later one', async () => {
    const before = seen.length;
    const pins = await Promise.all(Array.from({ length: 20 }, () => pinImage(`${host}/course/sum:1`, [{ host }], 2000)));
    expect(new Set(pins)).toEqual(new Set([`${host}/course/sum@${DIGEST}`]));
    expect(seen.length - before).toBe(1);
    await pinImage(`${host}/course/sum:1`, [{ host }], 2000);
    expect(seen.length - before).toBe(2);
  });

  it('leaves local names, pinned references and registries not listed alone, asking nothing', async () => {
    const before = seen.length;
    expect(await pinImage('gradeflow/example-sum:2', [{ host }], 2000)).toBe('gradeflow/example-sum:2');
    expect(await pinImage(`${host}/course/sum@${DIGEST}`, [{ host }], 2000)).toBe(`${host}/course/sum@${DIGEST}`);
    // A platform naming a host the operator did not list makes the API call nothing (no SSRF through intake).
    expect(await pinImage(`${host}/course/sum:1`, [], 2000)).toBe(`${host}/course/sum:1`);
    expect(await pinImage('docker.io/gradeflow/example-sum:2', [{ host }], 2000)).toBe('docker.io/gradeflow/example-sum:2');
    expect(seen.length).toBe(before);
  });

  it('sends the credentials of the config; without them the answer is unavailable (401)', async () => {
    await expect(pinImage(`${host}/course/locked:1`, [{ host }], 2000)).rejects.toMatchObject({ kind: 'unavailable', message: expect.stringMatching(/401 unauthorized/) });
    expect(await pinImage(`${host}/course/locked:1`, [{ host, username: 'ta', password: 'pw' }], 2000)).toBe(`${host}/course/locked@${DIGEST}`);
  });

  it('a tag the registry lacks is not_found; a registry that does not answer is unavailable', async () => {
    await expect(pinImage(`${host}/course/none:1`, [{ host }], 2000)).rejects.toMatchObject({ kind: 'not_found' });
    const err = await pinImage('127.0.0.1:1/course/sum:1', [{ host: '127.0.0.1:1' }], 2000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryResolveError);
    expect(err).toMatchObject({ kind: 'unavailable', message: expect.stringMatching(/could not be reached/) });
  });
});
