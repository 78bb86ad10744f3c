import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { controlSocket, requestRestart } from '../../src/cluster/supervisor';
import { PROJECT_ROOT } from '../../src/setup/paths';
import { BENCH_LIMITS } from '../../test/helpers/limits';
import { CLUSTER_BENCH_IMAGE_PATTERN } from './images';

/** The state file `gradeflow cluster --state` writes (the fields the bench reads). */
export interface ClusterState {
  api: string[];
  temporal: { address: string; namespace: string };
  processes: {
    postgres: number;
    temporal: number;
    servers: Array<{ url: string; pid: number }>;
    hosts: Array<{ hostId: string; dockerHost: string; dockerdPid: number; workerPid: number; workerUp?: boolean }>;
  };
}

export interface RunningCluster {
  apiKey: string;
  state(): ClusterState;
  /** Stop grading host `index` (1-based) gracefully, by its PID; the cluster keeps running without it. */
  stopHost(index: number): Promise<void>;
  /** Start it again through `gradeflow cluster restart host <index>`'s control socket. */
  startHost(index: number): Promise<void>;
  stop(): Promise<void>;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
};

async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(250);
  }
}

/**
 * `gradeflow cluster --hosts N --servers M` as an operator starts it (the built CLI as a child process),
 * with a platform that may run the bench image and call back the bench's receiver on loopback.
 */
export async function launchCluster(o: { hosts: number; servers: number; slots: number; callbackSecret: string; log: (line: string) => void }): Promise<RunningCluster> {
  // Short: dockerd's unix sockets live under it (at most ~100 characters).
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gfb-'));
  chmodSync(dir, 0o755); // the postgres user works in it
  const stateFile = path.join(dir, 'state.json');
  const apiKey = `bench-${randomBytes(12).toString('hex')}`;
  const configFile = path.join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      workerToken: randomBytes(24).toString('hex'),
      flavours: { default: BENCH_LIMITS },
      platforms: [{ id: 'bench', apiKeys: [apiKey], callbackSecret: o.callbackSecret, allowLoopbackCallbacks: true, images: [CLUSTER_BENCH_IMAGE_PATTERN] }],
      worker: { shutdownGraceSeconds: 5 },
      logLevel: 'warn',
    }),
  );
  const logFile = path.join(dir, 'cluster.log');
  const out = openSync(logFile, 'a');
  const clusterDir = path.join(dir, 'c');
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(PROJECT_ROOT, 'bin', 'gradeflow.js'), 'cluster', '--hosts', String(o.hosts), '--servers', String(o.servers),
      '--dir', clusterDir, '--state', stateFile, '--api-port', '0', '--temporal-port', '0', '--postgres-port', '0'],
    { env: { ...process.env, GRADEFLOW_CONFIG: configFile, GRADEFLOW_SLOTS: String(o.slots) }, stdio: ['ignore', out, out] },
  );
  const readState = (): ClusterState | undefined => (existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as ClusterState) : undefined);
  const clusterLog = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  // Stopped by a signal, it ends with that signal (no exit code).
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  // The bench stopped by Ctrl-C or SIGTERM stops the cluster first: a child process outlives its parent otherwise.
  const onSignal = (signal: NodeJS.Signals) => void stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stop = async (): Promise<void> => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!exited()) {
      child.kill('SIGTERM');
      await until('the cluster to stop', () => (exited() ? true : undefined), 180_000).catch(() => {
        child.kill('SIGKILL');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const begin = Date.now();
  try {
    await until('the cluster\'s state file', () => {
      if (exited()) throw new Error(`gradeflow cluster exited (${child.exitCode ?? child.signalCode}):\n${clusterLog()}`);
      return readState();
    }, 600_000);
  } catch (err) {
    await stop();
    throw err;
  }
  o.log(`cluster up in ${Math.round((Date.now() - begin) / 1000)} s (${o.hosts} hosts × ${o.slots} slots, ${o.servers} servers)`);
  const state = (): ClusterState => {
    const s = readState();
    if (!s) throw new Error(`the cluster's state file is gone:\n${clusterLog()}`);
    return s;
  };
  return {
    apiKey,
    state,
    async stopHost(index) {
      const pid = state().processes.hosts[index - 1]!.workerPid;
      if (!alive(pid)) return;
      process.kill(pid, 'SIGTERM');
      await until(`worker ${index} to stop`, () => (alive(pid) ? undefined : true), 60_000);
      // The supervisor notes it down within its 500 ms watch; a restart before that would be refused as busy.
      await until(`the state file to mark worker ${index} down`, () => (readState()?.processes.hosts[index - 1]!.workerUp === false ? true : undefined), 10_000);
    },
    async startHost(index) {
      await requestRestart(controlSocket(clusterDir), 'host', index);
    },
    stop,
  };
}
