import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/setup/free-port';
import { PROJECT_ROOT } from '../../src/setup/paths';
import { alive, pause, until } from '../helpers/cluster-process';
import { startReceiver, type Receiver } from '../helpers/receiver';

/**
 * `gradeflow cluster` as a user runs it: the real CLI as a child process, two Docker daemons each with a
 * grading host, two servers on one PostgreSQL. A burst spreads over both hosts; a killed grading host is
 * a fault the cluster survives and `gradeflow cluster restart` mends; SIGTERM leaves nothing behind.
 */

const BIN = path.join(PROJECT_ROOT, 'bin', 'gradeflow.js');
const SUM = readFileSync(path.join(PROJECT_ROOT, 'examples', 'sum-grader', 'submission', 'sum.sh')).toString('base64');

interface State {
  api: string[];
  temporal: { address: string; namespace: string };
  registry: string;
  supervisorPid: number;
  processes: {
    postgres: number;
    temporal: number;
    servers: Array<{ url: string; pid: number; up: boolean }>;
    registry: number;
    hosts: Array<{ hostId: string; dockerHost: string; healthUrl: string; dockerdPid: number; workerPid: number; dockerdUp: boolean; workerUp: boolean }>;
  };
  down: string[];
  codec: { endpoints: string[]; tokenFile: string | null };
}

let dir: string;
let stateFile: string;
let cluster: ChildProcess;
let receiver: Receiver;
/** The cluster registry's port: the platform's allowlist names its repositories, and so do submissions. */
let registryPort: number;
const apiKey = `cluster-${randomBytes(12).toString('hex')}`;
const secret = `whsec_${randomBytes(24).toString('base64')}`;
const readState = (): State | undefined => (existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as State) : undefined);
const clusterLog = (): string => readFileSync(path.join(dir, 'cluster.log'), 'utf8');

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-cluster-'));
  chmodSync(dir, 0o755); // the postgres user works in it
  stateFile = path.join(dir, 'state.json');
  receiver = await startReceiver(secret);
  registryPort = await freePort();
  const configFile = path.join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      workerToken: randomBytes(24).toString('hex'),
      platforms: [{ id: 'test', apiKeys: [apiKey], callbackSecret: secret, allowLoopbackCallbacks: true, images: [`127.0.0.1:${registryPort}/gradeflow/example-*`] }],
      callbacks: { initialIntervalMs: 200, maximumIntervalMs: 2000 },
      worker: { shutdownGraceSeconds: 5 },
      logLevel: 'warn',
    }),
  );
  const out = openSync(path.join(dir, 'cluster.log'), 'a');
  cluster = spawn(
    process.execPath,
    [BIN, 'cluster', '--hosts', '2', '--servers', '2', '--dir', path.join(dir, 'c'), '--state', stateFile,
      '--api-port', '0', '--temporal-port', '0', '--postgres-port', '0', '--registry-port', String(registryPort)],
    { env: { ...process.env, GRADEFLOW_CONFIG: configFile, GRADEFLOW_SLOTS: '4' }, stdio: ['ignore', out, out] },
  );
  await until('the state file', () => {
    if (cluster.exitCode !== null) throw new Error(`gradeflow cluster exited with ${cluster.exitCode}:\n${clusterLog()}`);
    return readState();
  }, 240_000);
}, 300_000);

afterAll(async () => {
  if (cluster && cluster.exitCode === null) {
    cluster.kill('SIGTERM');
    await until('the cluster to stop', () => (cluster.exitCode !== null ? true : undefined), 120_000).catch(() => cluster.kill('SIGKILL'));
  }
  await receiver?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 180_000);

async function submit(api: string, workId: string): Promise<string> {
  const res = await fetch(`${api}/v1/submissions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ image: `127.0.0.1:${registryPort}/gradeflow/example-sum:2`, work_id: workId, callback: receiver.url(), file: { name: 'sum.sh', content_base64: SUM } }),
  });
  expect(res.status, await res.clone().text()).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

/** Submit `n` at once over the servers; wait for every callback; the hosts of their attempts. */
async function burst(n: number, state: State): Promise<{ hosts: Map<string, number>; workIds: string[]; ms: number }> {
  const started = Date.now();
  const workIds = Array.from({ length: n }, () => `cluster-${randomUUID()}`);
  const ids = await Promise.all(workIds.map((w, i) => submit(state.api[i % state.api.length]!, w)));
  await Promise.all(workIds.map((w) => receiver.arrival(w)));
  const ms = Date.now() - started;
  const hosts = new Map<string, number>();
  for (const [i, id] of ids.entries()) {
    const res = await fetch(`${state.api[(i + 1) % state.api.length]}/v1/submissions/${id}`, { headers: { authorization: `Bearer ${apiKey}` } });
    const body = (await res.json()) as { status: string; attempts: Array<{ host: string; success: boolean }> };
    expect(body.status).toBe('completed');
    expect(body.attempts.length).toBeGreaterThan(0);
    for (const a of body.attempts) hosts.set(a.host, (hosts.get(a.host) ?? 0) + 1);
  }
  return { hosts, workIds, ms };
}

describe('gradeflow cluster --hosts 2 --servers 2', () => {
  it('writes the state file once every part is healthy; both APIs answer /healthz', async () => {
    const state = readState()!;
    expect(state.api).toHaveLength(2);
    expect(state.temporal).toEqual({ address: expect.stringMatching(/^127\.0\.0\.1:\d+$/), namespace: 'default' });
    expect(state.registry).toBe(`127.0.0.1:${registryPort}`);
    expect(state.processes.servers.map((s) => s.url)).toEqual(state.api);
    expect(state.processes.hosts.map((h) => h.hostId)).toEqual(['host-1', 'host-2']);
    expect(state.down).toEqual([]);
    const pids = [state.processes.postgres, state.processes.temporal, state.processes.registry, ...state.processes.servers.map((s) => s.pid),
      ...state.processes.hosts.flatMap((h) => [h.dockerdPid, h.workerPid])];
    expect(new Set(pids).size).toBe(9);
    for (const pid of pids) expect(alive(pid), String(pid)).toBe(true);
    for (const url of state.api) expect((await fetch(`${url}/healthz`)).status).toBe(200);
    // Payloads are encrypted with a generated key (0600); each server's codec endpoint answers its token only.
    expect(state.codec.endpoints).toEqual(state.api.map((u) => `${u}/codec`));
    expect(statSync(path.join(path.dirname(state.codec.tokenFile!), 'payload-key')).mode & 0o777).toBe(0o600);
    const token = readFileSync(state.codec.tokenFile!, 'utf8').trim();
    for (const endpoint of state.codec.endpoints) {
      const decode = (authorization?: string) =>
        fetch(`${endpoint}/decode`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: '{"payloads":[]}' });
      expect((await decode(`Bearer ${token}`)).status).toBe(200);
      expect((await decode()).status).toBe(401);
    }
    for (const h of state.processes.hosts) {
      const res = await fetch(h.healthUrl);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ hostId: h.hostId, docker: { ok: true }, polling: { ok: true, state: 'RUNNING' } });
    }
  });

  it('spreads a burst of 200 submissions over both hosts, each delivered exactly once', async () => {
    const { hosts, workIds, ms } = await burst(200, readState()!);
    await pause(2000); // a second delivery would arrive now
    for (const w of workIds) expect(new Set((receiver.messages.get(w) ?? []).map((m) => m.webhookId)).size, w).toBe(1);
    console.log(`200 submissions graded and delivered in ${ms} ms; attempts per host: ${JSON.stringify(Object.fromEntries(hosts))}`);
    expect(hosts.get('host-1')).toBeGreaterThan(0);
    expect(hosts.get('host-2')).toBeGreaterThan(0);
    expect([...hosts.keys()].sort()).toEqual(['host-1', 'host-2']);
  }, 300_000);

  it('survives a grading host killed by PID; `gradeflow cluster restart host 1` brings it back', async () => {
    const before = readState()!;
    const killed = before.processes.hosts[0]!.workerPid;
    process.kill(killed, 'SIGKILL');
    const down = await until('the state file to mark worker 1 down', () => {
      const s = readState();
      return s && !s.processes.hosts[0]!.workerUp ? s : undefined;
    }, 10_000);
    expect(down.down).toEqual(['worker 1']);
    expect(cluster.exitCode).toBeNull();
    for (const url of down.api) expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(clusterLog()).toContain(`worker 1 (pid ${killed}) exited`);

    const { stderr } = await promisify(execFile)(process.execPath, [BIN, 'cluster', 'restart', 'host', '1', '--dir', path.join(dir, 'c')], {
      env: { ...process.env, GRADEFLOW_CONFIG: path.join(dir, 'config.json') },
    });
    expect(stderr).toContain('worker 1 is up');
    const after = readState()!;
    expect(after.down).toEqual([]);
    expect(after.processes.hosts[0]!.workerUp).toBe(true);
    expect(after.processes.hosts[0]!.workerPid).not.toBe(killed);
    expect(alive(after.processes.hosts[0]!.workerPid)).toBe(true);

    const { hosts } = await burst(60, after);
    expect(hosts.get('host-1')).toBeGreaterThan(0);
  }, 240_000);

  it('stops every process it started on SIGTERM, leaving no container on its daemons', async () => {
    const state = readState()!;
    const pids = [state.supervisorPid, state.processes.postgres, state.processes.temporal, state.processes.registry, ...state.processes.servers.map((s) => s.pid),
      ...state.processes.hosts.flatMap((h) => [h.dockerdPid, h.workerPid])];
    cluster.kill('SIGTERM');
    await until('the cluster to exit', () => (cluster.exitCode !== null ? true : undefined), 120_000);
    expect(cluster.exitCode).toBe(0);
    for (const pid of pids) expect(alive(pid), String(pid)).toBe(false);
    for (const h of ['host-1', 'host-2']) {
      expect(readdirSync(path.join(dir, 'c', h, 'data', 'containers'))).toEqual([]);
    }
    expect(existsSync(stateFile)).toBe(false);
  }, 180_000);
});
