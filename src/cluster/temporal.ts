import path from 'node:path';
import { startTemporalServer } from '../setup/temporal-server';

/** The cluster's Temporal, whatever runs it: the supervisor needs its address and its process. */
export interface ClusterTemporal {
  address: string;
  pid: number;
  stop(): Promise<void>;
}

export interface TemporalOptions {
  /** Where it keeps its config and log. */
  dir: string;
  port: number;
  namespace: string;
  /** The cluster's PostgreSQL (an account that may create databases): persistence and visibility. */
  postgresUrl: string;
}

/**
 * Start the cluster's Temporal: the real server (built from its Go module once per machine, see
 * src/setup/temporal-server.ts) on the cluster's PostgreSQL, with the namespace, gradeflow's search
 * attributes and the priority/fairness dynamic config. Its state is in PostgreSQL, so a restart keeps it.
 */
export async function startTemporal(o: TemporalOptions): Promise<ClusterTemporal> {
  const server = await startTemporalServer({
    postgresUrl: o.postgresUrl,
    port: o.port,
    namespace: o.namespace,
    logFile: temporalLogFile(o.dir),
    detached: true,
  });
  return { address: server.address, pid: server.pid, stop: () => server.stop() };
}

export const temporalLogFile = (dir: string): string => path.join(dir, 'temporal.log');
