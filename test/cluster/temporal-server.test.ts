import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GradeflowConfig } from '../../src/config/schema';
import { freePort } from '../../src/setup/free-port';
import { startTempPostgres, type TempPostgres } from '../../src/setup/postgres';
import { startTemporalServer, type TemporalServer } from '../../src/setup/temporal-server';
import { temporalConnectionOptions } from '../../src/shared/temporal-connection';
import { SCRIPT_RUNNER } from '../helpers/images';
import { b64file, startStack } from '../helpers/stack';

/**
 * gradeflow against the real Temporal server (the release `ensureTemporalServer` builds; the suite's
 * global set-up builds it when missing) persisting to PostgreSQL: once with plain gRPC, once with
 * mutual TLS on the frontend. One PostgreSQL serves both servers, in databases of their own; the servers
 * run one after the other.
 */

const SERVER_NAME = 'temporal.gradeflow.test';
let dir: string;
let postgres: TempPostgres;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-tserver-'));
  postgres = await startTempPostgres(await freePort());
});

afterAll(async () => {
  await postgres?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A CA, a frontend certificate for SERVER_NAME only (no IP: clients must name it), a client certificate. */
function makeCertificates(into: string) {
  const f = (name: string) => path.join(into, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=gradeflow test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'));
  const leaf = (name: string, cn: string, ext: string) => {
    writeFileSync(f(`${name}.ext`), ext);
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2',
      '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`));
  };
  leaf('server', SERVER_NAME, `subjectAltName=DNS:${SERVER_NAME}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n`);
  leaf('client', 'gradeflow', 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n');
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}

/** One submission graded end to end by an in-process gradeflow whose Temporal settings are `temporal`. */
async function gradeOne(name: string, temporal: Partial<GradeflowConfig['temporal']>): Promise<void> {
  const stack = await startStack(name, {
    temporal: {
      namespace: 'default',
      port: 7233,
      uiPort: 8233,
      taskQueuePrefix: `${name}-${randomBytes(3).toString('hex')}`,
      tls: { enabled: false },
      ...temporal,
    },
  });
  try {
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: name, file: b64file('grade.sh', 'echo \'{"success": true, "grade": 9}\'\n') });
    expect(res.status).toBe(202);
    const done = await stack.waitFor(res.body.id as string, (b) => b.status === 'completed', 90_000);
    expect(done.result).toMatchObject({ success: true, grade: 9 });
    expect(done.attempts[0]).toMatchObject({ attempt: 1, host: stack.hostId });
  } finally {
    await stack.stop();
  }
}

describe('the real Temporal server, plain gRPC', () => {
  let server: TemporalServer;
  beforeAll(async () => {
    server = await startTemporalServer({
      postgresUrl: postgres.url,
      databases: { main: 'temporal_plain', visibility: 'temporal_plain_visibility' },
      namespace: 'default',
      retention: '24h',
      logFile: path.join(dir, 'plain', 'temporal.log'),
    });
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('has priority and fairness on and the namespace with its search attributes', async () => {
    expect(readFileSync(server.configFile.replace(/config\.yaml$/, 'dynamicconfig.yaml'), 'utf8')).toMatch(
      /matching\.useNewMatcher:\n {2}- value: true\nmatching\.enableFairness:\n {2}- value: true/,
    );
    const conn = await Connection.connect({ address: server.address });
    try {
      const ns = await conn.workflowService.describeNamespace({ namespace: 'default' });
      expect(Number(ns.config?.workflowExecutionRetentionTtl?.seconds)).toBe(24 * 3600);
      const sa = await conn.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(sa.customAttributes ?? {})).toContain('GradeflowPlatform');
    } finally {
      await conn.close();
    }
  });

  it('grades a submission', async () => {
    await gradeOne('tserver-plain', { address: server.address });
  }, 120_000);
});

describe('the real Temporal server, mutual TLS on the frontend', () => {
  let server: TemporalServer;
  let certs: ReturnType<typeof makeCertificates>;
  beforeAll(async () => {
    certs = makeCertificates(mkdtempSync(path.join(dir, 'certs-')));
    server = await startTemporalServer({
      postgresUrl: postgres.url,
      databases: { main: 'temporal_tls', visibility: 'temporal_tls_visibility' },
      namespace: 'default',
      retention: '24h',
      tls: {
        certFile: certs.serverCert,
        keyFile: certs.serverKey,
        caFile: certs.ca,
        serverName: SERVER_NAME,
        clientCaFile: certs.ca,
        clientCertFile: certs.clientCert,
        clientKeyFile: certs.clientKey,
      },
      logFile: path.join(dir, 'tls', 'temporal.log'),
    });
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('grades a submission with the client certificate from the config', async () => {
    await gradeOne('tserver-tls', {
      address: server.address,
      tls: { enabled: true, serverCaFile: certs.ca, serverName: SERVER_NAME, clientCertFile: certs.clientCert, clientKeyFile: certs.clientKey },
    });
  }, 120_000);

  it('refuses a connection without the client certificate, and one in plain text', async () => {
    const noCert = temporalConnectionOptions({ address: server.address, port: 0, tls: { enabled: true, serverCaFile: certs.ca, serverName: SERVER_NAME } });
    await expect(Connection.connect({ ...noCert, connectTimeout: 2000 })).rejects.toThrow();
    await expect(NativeConnection.connect(noCert)).rejects.toThrow();
    await expect(Connection.connect({ address: server.address, connectTimeout: 2000 })).rejects.toThrow();
    // The same options with the certificate do connect: the refusals above are about the certificate.
    const withCert = temporalConnectionOptions({
      address: server.address,
      port: 0,
      tls: { enabled: true, serverCaFile: certs.ca, serverName: SERVER_NAME, clientCertFile: certs.clientCert, clientKeyFile: certs.clientKey },
    });
    const conn = await NativeConnection.connect(withCert);
    await conn.close();
  }, 60_000);
});
