import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { controlSocket, requestRestart } from '../../src/cluster/supervisor';
import { freePort } from '../../src/setup/free-port';
import { alive, spawnCluster, until, type ClusterState } from '../../test/helpers/cluster-process';
import { BENCH_LIMITS } from '../../test/helpers/limits';
import { CLUSTER_BENCH_IMAGE_PATTERN } from './images';

export type { ClusterState } from '../../test/helpers/cluster-process';

export interface RunningCluster {
  apiKey: string;
  state(): ClusterState;
  /** Stop grading host `index` (1-based) gracefully, by its PID; the cluster keeps running without it. */
  stopHost(index: number): Promise<void>;
  /** Start it again through `gradeflow cluster restart host <index>`'s control socket. */
  startHost(index: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `gradeflow cluster --hosts N --servers M` as an operator starts it (the built CLI as a child process),
 * with a platform that may run the bench image and call back the bench's receiver on loopback.
 */
export async function launchCluster(o: { hosts: number; servers: number; slots: number; callbackSecret: string; log: (line: string) => void }): Promise<RunningCluster> {
  // Short: dockerd's unix sockets live under it (at most ~100 characters).
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gfb-'));
  chmodSync(dir, 0o755); // the postgres user works in it
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
  // The bench stopped by Ctrl-C or SIGTERM stops the cluster first: a child process outlives its parent otherwise.
  let spawned: Awaited<ReturnType<typeof spawnCluster>> | undefined;
  const onSignal = (signal: NodeJS.Signals) => void stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stop = async (): Promise<void> => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const child = spawned?.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await until('the cluster to stop', () => (child.exitCode !== null || child.signalCode !== null ? true : undefined), 180_000).catch(() => {
        child.kill('SIGKILL');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const begin = Date.now();
  try {
    spawned = await spawnCluster({ dir, configFile, hosts: o.hosts, servers: o.servers, slots: o.slots, registryPort: await freePort(), startTimeoutMs: 600_000 });
  } catch (err) {
    await stop();
    throw err;
  }
  const { clusterDir, readState, log } = spawned;
  o.log(`cluster up in ${Math.round((Date.now() - begin) / 1000)} s (${o.hosts} hosts × ${o.slots} slots, ${o.servers} servers)`);
  const state = (): ClusterState => {
    const s = readState();
    if (!s) throw new Error(`the cluster's state file is gone:\n${log()}`);
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
