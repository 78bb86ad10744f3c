import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { temporalConnectionOptions } from '../../src/shared/temporal-connection';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-tconn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('Temporal connection settings', () => {
  it('defaults to plain gRPC on the embedded port, without a key', () => {
    const c = loadConfig({});
    expect(c.temporal.tls).toEqual({ enabled: false });
    expect(temporalConnectionOptions(c.temporal)).toEqual({ address: '127.0.0.1:7233' });
  });

  it('reads TLS and the API key from the Temporal CLI’s environment variables', () => {
    const ca = file('ca.pem', 'CA');
    const crt = file('client.pem', 'CRT');
    const key = file('client.key', 'KEY');
    const c = loadConfig({
      TEMPORAL_ADDRESS: 'temporal.example.edu:7233',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
      TEMPORAL_TLS_CLIENT_CERT_PATH: crt,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      TEMPORAL_TLS_SERVER_NAME: 'frontend.internal',
      TEMPORAL_API_KEY: 'secret-key',
    });
    expect(temporalConnectionOptions(c.temporal)).toEqual({
      address: 'temporal.example.edu:7233',
      tls: {
        serverNameOverride: 'frontend.internal',
        serverRootCACertificate: Buffer.from('CA'),
        clientCertPair: { crt: Buffer.from('CRT'), key: Buffer.from('KEY') },
      },
      apiKey: 'secret-key',
    });
  });

  it('TEMPORAL_TLS=true alone means TLS with the system CAs; a key alone is left to the SDK (which turns TLS on)', () => {
    expect(temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: 'a:1', TEMPORAL_TLS: 'true' }).temporal)).toEqual({ address: 'a:1', tls: {} });
    expect(temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: 'a:1', TEMPORAL_API_KEY: 'k' }).temporal)).toEqual({ address: 'a:1', apiKey: 'k' });
    expect(() => loadConfig({ TEMPORAL_TLS: 'yes' })).toThrow(/TEMPORAL_TLS/);
  });

  it('refuses a client certificate without its key, and names a file it cannot read', () => {
    expect(() => loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/x.pem' })).toThrow(/clientCertFile.*clientKeyFile/);
    const c = loadConfig({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'missing.pem') });
    expect(() => temporalConnectionOptions(c.temporal)).toThrow(/temporal\.tls\.serverCaFile .*missing\.pem/);
  });
});
