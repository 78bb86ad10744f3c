import { readFileSync } from 'node:fs';
import { Connection, type TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { GradeflowConfig } from '../config/schema';

/** The parts of the `temporal` config section a connection needs. */
type TemporalConfig = Pick<GradeflowConfig['temporal'], 'address' | 'port' | 'tls' | 'apiKey'>;

/** What both Connection.connect (client) and NativeConnection.connect (workers) take from the config. */
interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

function temporalAddress(t: TemporalConfig): string {
  return t.address ?? `127.0.0.1:${t.port}`;
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

/**
 * The one place Temporal connection options are built from the config: address, TLS (server CA, client
 * certificate for mutual TLS, server name) and API key. Files are read on every call, so a new
 * connection picks up rotated certificates.
 */
export function temporalConnectionOptions(t: TemporalConfig): TemporalConnectionOptions {
  const options: TemporalConnectionOptions = { address: temporalAddress(t) };
  const tls = t.tls;
  const tlsOn = tls.enabled || Boolean(tls.serverCaFile || tls.clientCertFile || tls.serverName);
  if (tlsOn) {
    options.tls = {
      ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
      ...(tls.serverCaFile ? { serverRootCACertificate: readPem(tls.serverCaFile, 'temporal.tls.serverCaFile') } : {}),
      ...(tls.clientCertFile && tls.clientKeyFile
        ? {
            clientCertPair: {
              crt: readPem(tls.clientCertFile, 'temporal.tls.clientCertFile'),
              key: readPem(tls.clientKeyFile, 'temporal.tls.clientKeyFile'),
            },
          }
        : {}),
    };
  }
  // With an API key and no tls, the SDK connects with TLS (its rule; Temporal Cloud wants both).
  if (t.apiKey) options.apiKey = t.apiKey;
  return options;
}

/** A client connection (workflow and operator services) as the config says. */
export function connectClient(config: GradeflowConfig): Promise<Connection> {
  return Connection.connect(temporalConnectionOptions(config.temporal));
}

/** A worker connection as the config says. */
export function connectWorker(config: GradeflowConfig): Promise<NativeConnection> {
  return NativeConnection.connect(temporalConnectionOptions(config.temporal));
}
