import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { LABELS } from '../../src/activities/docker/container-options';
import { controlSocket, requestRestart, type Role } from '../../src/cluster/supervisor';
import { freePort } from '../../src/setup/free-port';
import { PROJECT_ROOT } from '../../src/setup/paths';
import { startReceiver, type Receiver } from './receiver';
import { backoffSchedule } from './retry-schedule';

/**
 * `gradeflow cluster` as a user runs it, for tests and the bench: the real CLI as a child process (its
 * output in `<dir>/cluster.log`), a callback receiver, one platform; submitting with fail-over between
 * the servers, restarting parts over the control socket, and counting what the receiver got.
 */

const BIN = path.join(PROJECT_ROOT, 'bin', 'gradeflow.js');

/** The state file `gradeflow cluster --state` writes (the fields the tests read). */
export interface ClusterState {
  api: string[];
  temporal: { address: string; namespace: string };
  registry: string | null;
  database: string;
  supervisorPid: number;
  processes: {
    postgres: number;
    temporal: number;
    registry: number;
    servers: Array<{ url: string; pid: number; up: boolean }>;
    hosts: Array<{ hostId: string; dockerHost: string; healthUrl: string; dockerdPid: number; workerPid: number; dockerdUp: boolean; workerUp: boolean }>;
  };
  down: string[];
  /** The servers' codec endpoints and the operator token's file (the cluster generates both). */
  codec: { endpoints: string[]; tokenFile: string | null };
}

export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Alive and not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/** Poll `probe` every 250 ms until it returns a value; throw after `timeoutMs`. */
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(250);
  }
}

/** A student's answer to the sum grader that is right, and takes `sleepSeconds` per test case (5 cases). */
export function sumSubmission(sleepSeconds = 0): string {
  const script = sleepSeconds > 0 ? `#!/bin/sh\nsleep ${sleepSeconds}\necho $(( $1 + $2 ))\n` : '#!/bin/sh\necho $(( $1 + $2 ))\n';
  return Buffer.from(script).toString('base64');
}

/** A `gradeflow cluster` child process whose state file is written (every part healthy). */
export interface SpawnedCluster {
  child: ChildProcess;
  stateFile: string;
  /** Its `--dir`: daemons, sockets, logs of each part. */
  clusterDir: string;
  /** The state file, or undefined once it is gone. */
  readState(): ClusterState | undefined;
  /** Everything it printed (`<dir>/cluster.log`). */
  log(): string;
  /** How long it took to write its state file, ms. */
  startMs: number;
}

/**
 * Spawn the built CLI's `gradeflow cluster` in `dir` (state file, `--dir`, log there) with the configuration
 * in `configFile`, on ports of its own choosing, and wait for its state file. If it exits first or does not
 * write it in time, it is stopped and the error carries its log.
 */
export async function spawnCluster(o: {
  dir: string;
  configFile: string;
  hosts: number;
  servers: number;
  slots: number;
  /** Default: the CLI's own (5000). */
  registryPort?: number;
  startTimeoutMs: number;
}): Promise<SpawnedCluster> {
  const stateFile = path.join(o.dir, 'state.json');
  const clusterDir = path.join(o.dir, 'c');
  const logFile = path.join(o.dir, 'cluster.log');
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const readState = (): ClusterState | undefined => (existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as ClusterState) : undefined);
  const out = openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, 'cluster', '--hosts', String(o.hosts), '--servers', String(o.servers), '--dir', clusterDir, '--state', stateFile,
      '--api-port', '0', '--temporal-port', '0', '--postgres-port', '0',
      ...(o.registryPort !== undefined ? ['--registry-port', String(o.registryPort)] : [])],
    { env: { ...process.env, GRADEFLOW_CONFIG: o.configFile, GRADEFLOW_SLOTS: String(o.slots) }, stdio: ['ignore', out, out] },
  );
  const started = Date.now();
  try {
    await until('the state file', () => {
      // Stopped by a signal, it ends with that signal (no exit code).
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`gradeflow cluster exited (${child.exitCode ?? child.signalCode}):\n${log()}`);
      return readState();
    }, o.startTimeoutMs);
  } catch (err) {
    child.kill('SIGTERM');
    throw err;
  }
  return { child, stateFile, clusterDir, readState, log, startMs: Date.now() - started };
}

export interface ClusterProcessOptions {
  hosts?: number;
  servers?: number;
  /** Grading slots per host (GRADEFLOW_SLOTS). */
  slots?: number;
  /** Merged into the configuration (GRADEFLOW_CONFIG) next to the platform. */
  config?: Record<string, unknown>;
  /** How long the cluster may take to write its state file. */
  startTimeoutMs?: number;
}

/** One answer to a POST, for the tests' "never a 500" and "Retry-After on a 503". */
export interface PostAnswer {
  api: string;
  /** 0: no answer (connection refused or reset). */
  status: number;
  retryAfter: string | null;
}

export interface Accepted {
  workId: string;
  id: string;
  answers: PostAnswer[];
}

export async function startClusterProcess(o: ClusterProcessOptions = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gf-cluster-'));
  chmodSync(dir, 0o755); // the postgres user works in it
  const stateFile = path.join(dir, 'state.json');
  const configFile = path.join(dir, 'config.json');
  const apiKey = `cluster-${randomBytes(12).toString('hex')}`;
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const receiver: Receiver = await startReceiver(secret);
  // The cluster's registry holds the example graders; its daemons start empty and pull by digest.
  const registry = `127.0.0.1:${await freePort()}`;
  const sumImage = `${registry}/gradeflow/example-sum:2`;
  writeFileSync(
    configFile,
    JSON.stringify({
      workerToken: randomBytes(24).toString('hex'),
      platforms: [{ id: 'test', apiKeys: [apiKey], callbackSecret: secret, allowLoopbackCallbacks: true, images: [`${registry}/gradeflow/example-*`] }],
      callbacks: { initialIntervalMs: 200, maximumIntervalMs: 2000, retrySchedule: backoffSchedule(200, 2000, 600_000) },
      worker: { shutdownGraceSeconds: 5 },
      logLevel: 'warn',
      ...o.config,
    }),
  );
  let spawned: SpawnedCluster;
  try {
    spawned = await spawnCluster({ dir, configFile, hosts: o.hosts ?? 2, servers: o.servers ?? 2, slots: o.slots ?? 4,
      registryPort: Number(registry.split(':')[1]), startTimeoutMs: o.startTimeoutMs ?? 240_000 });
  } catch (err) {
    await receiver.close();
    throw err;
  }
  const { child, clusterDir, log, readState, startMs } = spawned;
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };

  const cluster = {
    dir,
    /** The cluster registry (`127.0.0.1:PORT`), where the example graders are. */
    registry,
    /** The sum grader, as submissions name it. */
    sumImage,
    clusterDir,
    configFile,
    stateFile,
    apiKey,
    receiver,
    child,
    /** How long the cluster took to write its state file, ms. */
    startMs,
    log,
    state: (): ClusterState => readState()!,
    /** The state once `predicate` holds for it. */
    waitForState: (what: string, predicate: (s: ClusterState) => boolean, timeoutMs = 15_000): Promise<ClusterState> =>
      until(what, () => {
        const s = readState();
        return s && predicate(s) ? s : undefined;
      }, timeoutMs),
    /** `gradeflow cluster restart <role> [index]`, over the control socket; resolves with the supervisor's answer. */
    restart: (role: Role, index = 1): Promise<string> => requestRestart(controlSocket(clusterDir), role, index),
    /** The Docker daemon of host `index` (1-based). */
    docker: (index: number): Dockerode => new Dockerode({ socketPath: path.join(clusterDir, `host-${index}`, 'docker.sock') }),

    /** gradeflow's containers on host `index`'s daemon (running or not). */
    async containers(index: number): Promise<Dockerode.ContainerInfo[]> {
      return cluster.docker(index).listContainers({ all: true, filters: { label: [`${LABELS.managed}=true`] } });
    },

    /** One POST (of the sum grader unless `image` names another); never throws for a missing answer (status 0). */
    async post(api: string, workId: string, content: string, image = sumImage): Promise<PostAnswer & { id?: string; code?: string; message?: string; duplicate?: boolean }> {
      try {
        const res = await fetch(`${api}/v1/submissions`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ image, work_id: workId, callback: receiver.url(), file: { name: 'sum.sh', content_base64: content } }),
          signal: AbortSignal.timeout(30_000),
        });
        const body = (await res.json().catch(() => ({}))) as { id?: string; duplicate?: boolean; error?: { code: string; message: string } };
        return {
          api,
          status: res.status,
          retryAfter: res.headers.get('retry-after'),
          ...(body.id ? { id: body.id } : {}),
          ...(body.duplicate !== undefined ? { duplicate: body.duplicate } : {}),
          ...(body.error ? { code: body.error.code, message: body.error.message } : {}),
        };
      } catch {
        return { api, status: 0, retryAfter: null };
      }
    },

    /**
     * POST as a platform that fails over: start on server `first`; on no answer or a 503, pause (the
     * Retry-After, at most `maxPauseMs`) and send the same work_id to the next server; until a 202 (or
     * the 200 of a repeat the first server had stored before it went away). Any other answer throws.
     */
    async submitUntilAccepted(workId: string, content: string, first = 0, { maxPauseMs = 500, timeoutMs = 120_000 } = {}): Promise<Accepted> {
      const answers: PostAnswer[] = [];
      const deadline = Date.now() + timeoutMs;
      for (let i = first; ; i++) {
        const apis = readState()!.api;
        const { id, ...answer } = await cluster.post(apis[i % apis.length]!, workId, content);
        answers.push(answer);
        if ((answer.status === 202 || answer.status === 200) && id) return { workId, id, answers };
        if (answer.status !== 0 && answer.status !== 503) throw new Error(`POST ${workId} answered ${answer.status}: ${JSON.stringify(answers)}`);
        if (Date.now() > deadline) throw new Error(`POST ${workId} not accepted in time: ${JSON.stringify(answers)}`);
        await pause(Math.min(maxPauseMs, 1000 * Number(answer.retryAfter ?? 0) || 100));
      }
    },

    /** GET a submission (from any server that answers). */
    async submission(id: string): Promise<{ status: string; result?: { grade?: number; reason?: string }; attempts: Array<{ attempt: number; host: string }> }> {
      for (const api of readState()!.api) {
        const res = await fetch(`${api}/v1/submissions/${id}`, { headers: { authorization: `Bearer ${apiKey}` } }).catch(() => undefined);
        if (res?.status === 200) return (await res.json()) as Awaited<ReturnType<typeof cluster.submission>>;
      }
      throw new Error(`no server answers GET ${id}`);
    },

    /** Wait until every work_id has had a callback. */
    async arrivals(workIds: string[], timeoutMs = 240_000): Promise<void> {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const missing = workIds.filter((w) => !receiver.messages.has(w));
          reject(new Error(`no callback within ${timeoutMs} ms for ${missing.length} of ${workIds.length}: ${missing.slice(0, 5).join(', ')}`));
        }, timeoutMs);
      });
      try {
        await Promise.race([Promise.all(workIds.map((w) => receiver.arrival(w))), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },

    /** SIGTERM and wait for the exit (SIGKILL after 2 minutes); close the receiver; remove the directory. */
    async stop(): Promise<void> {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await until('the cluster to stop', () => (child.exitCode !== null ? true : undefined), 120_000).catch(() => child.kill('SIGKILL'));
      }
      await receiver.close();
      if (!process.env.GRADEFLOW_KEEP_CLUSTER_DIR) rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

export type ClusterProcess = Awaited<ReturnType<typeof startClusterProcess>>;

/**
 * What the receiver got for these work_ids: per work_id, its distinct `webhook-id`s and attempt numbers.
 * Delivered exactly once: one webhook-id and one attempt each (a re-sent message repeats its webhook-id;
 * a second grading, or a second submission for the work_id, brings a new one).
 */
export function deliveryCounts(receiver: Receiver, workIds: string[]) {
  const lost: string[] = [];
  const twice: Array<{ workId: string; webhookIds: string[]; attempts: number[] }> = [];
  let messages = 0;
  for (const w of workIds) {
    const got = receiver.messages.get(w) ?? [];
    messages += got.length;
    if (!got.length) {
      lost.push(w);
      continue;
    }
    const webhookIds = [...new Set(got.map((m) => m.webhookId))];
    const attempts = [...new Set(got.map((m) => m.attempt))];
    if (webhookIds.length !== 1 || attempts.length !== 1) twice.push({ workId: w, webhookIds, attempts });
  }
  return { submissions: workIds.length, messages, lost, twice };
}
