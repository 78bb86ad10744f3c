import path from 'node:path';
import { freePort } from '../setup/free-port';
import { ensureTemporalCli } from '../setup/temporal-cli';
import { startDevServer } from '../setup/temporal-dev-server';

/** The cluster's Temporal, whatever runs it: the supervisor needs its address and its process. */
export interface ClusterTemporal {
  address: string;
  pid: number;
  stop(): Promise<void>;
}

export interface TemporalOptions {
  /** Where it keeps its state and log. */
  dir: string;
  port: number;
  namespace: string;
}

/**
 * Start the cluster's Temporal. For now the Temporal CLI's dev server with its workflows in a SQLite file
 * (`dir/temporal.db`, so a restart keeps them). TODO(step 7, real Temporal server): replace the body with
 * the server built from Go (`ensureTemporalServer()` / `startTemporalServer()` of src/setup/temporal-server.ts);
 * nothing else in the cluster changes.
 */
export async function startTemporal(o: TemporalOptions): Promise<ClusterTemporal> {
  const server = await startDevServer({
    cli: await ensureTemporalCli(),
    port: o.port,
    uiPort: await freePort(),
    namespace: o.namespace,
    dbFile: path.join(o.dir, 'temporal.db'),
    logFile: temporalLogFile(o.dir),
    headless: true,
    detached: true,
  });
  return { address: server.address, pid: server.pid, stop: () => server.stop() };
}

export const temporalLogFile = (dir: string): string => path.join(dir, 'temporal.log');
