import path from 'node:path';
import { loadConfig } from '../config/load';
import { controlSocket, ClusterSupervisor, requestRestart, ROLES, type Role } from '../cluster/supervisor';
import { say } from '../setup/paths';
import { onShutdown } from './processes';

export interface ClusterCliOptions {
  hosts: string;
  servers: string;
  dir?: string;
  state?: string;
  apiPort?: string;
  temporalPort?: string;
  postgresPort: string;
  registryPort: string;
}

function count(value: string, what: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${what} must be a whole number ≥ ${min}, got "${value}"`);
  return n;
}

const defaultDir = (): string => path.join(loadConfig().dataDir, 'cluster');

/** `gradeflow cluster`: the production layout on this machine, supervised until SIGINT/SIGTERM. */
export async function runCluster(opts: ClusterCliOptions): Promise<void> {
  const config = loadConfig();
  const dir = path.resolve(opts.dir ?? defaultDir());
  const supervisor = new ClusterSupervisor({
    config,
    dir,
    stateFile: path.resolve(opts.state ?? path.join(dir, 'state.json')),
    hosts: count(opts.hosts, '--hosts', 1),
    servers: count(opts.servers, '--servers', 1),
    apiPort: count(opts.apiPort ?? String(config.api.port), '--api-port', 0),
    temporalPort: count(opts.temporalPort ?? String(config.temporal.port), '--temporal-port', 0),
    postgresPort: count(opts.postgresPort, '--postgres-port', 0),
    registryPort: count(opts.registryPort, '--registry-port', 0),
  });
  let signalled = false;
  onShutdown(async () => {
    signalled = true;
    say('stopping the cluster…');
    await supervisor.stop();
    say('cluster stopped');
  });
  try {
    await supervisor.start();
  } catch (err) {
    // Interrupted while starting: the shutdown handler stops what started and exits.
    if (signalled) return;
    throw err;
  }
}

/** `gradeflow cluster restart <role> [index]`: asks the running supervisor to start a part again. */
export async function runClusterRestart(role: string, index: string | undefined, opts: { dir?: string }): Promise<void> {
  if (!(ROLES as readonly string[]).includes(role)) throw new Error(`role must be one of ${ROLES.join(', ')}; got "${role}"`);
  const dir = path.resolve(opts.dir ?? defaultDir());
  const message = await requestRestart(controlSocket(dir), role as Role, count(index ?? '1', 'index', 1));
  say(message);
}
