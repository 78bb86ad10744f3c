import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/setup/paths';
import { alive, pause, startClusterProcess, until, type ClusterProcess, type ClusterState } from '../helpers/cluster-process';

/**
 * `gradeflow cluster` as a user runs it: the real CLI as a child process, two Docker daemons each with a
 * grading host, two servers on one PostgreSQL. A burst spreads over both hosts; a killed grading host is
 * a fault the cluster survives and `gradeflow cluster restart` mends; SIGTERM leaves nothing behind.
 */

const BIN = path.join(PROJECT_ROOT, 'bin', 'gradeflow.js');
const SUM = readFileSync(path.join(PROJECT_ROOT, 'examples', 'sum-grader', 'submission', 'sum.sh')).toString('base64');

let cluster: ClusterProcess;

beforeAll(async () => {
  cluster = await startClusterProcess({ hosts: 2, servers: 2, slots: 4 });
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
}, 180_000);

async function submit(api: string, workId: string): Promise<string> {
  const answer = await cluster.post(api, workId, SUM);
  expect(answer.status, JSON.stringify(answer)).toBe(202);
  return answer.id!;
}

/** Submit `n` at once over the servers; wait for every callback; the hosts of their attempts. */
async function burst(n: number, state: ClusterState): Promise<{ hosts: Map<string, number>; workIds: string[]; ms: number }> {
  const started = Date.now();
  const workIds = Array.from({ length: n }, () => `cluster-${randomUUID()}`);
  const ids = await Promise.all(workIds.map((w, i) => submit(state.api[i % state.api.length]!, w)));
  await cluster.arrivals(workIds);
  const ms = Date.now() - started;
  const hosts = new Map<string, number>();
  for (const id of ids) {
    const body = await cluster.submission(id);
    expect(body.status).toBe('completed');
    expect(body.attempts.length).toBeGreaterThan(0);
    for (const a of body.attempts) hosts.set(a.host, (hosts.get(a.host) ?? 0) + 1);
  }
  return { hosts, workIds, ms };
}

describe('gradeflow cluster --hosts 2 --servers 2', () => {
  it('writes the state file once every part is healthy; both APIs answer /healthz', async () => {
    const state = cluster.state();
    expect(state.api).toHaveLength(2);
    expect(state.temporal).toEqual({ address: expect.stringMatching(/^127\.0\.0\.1:\d+$/), namespace: 'default' });
    expect(state.registry).toBe(cluster.registry);
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
    const { hosts, workIds, ms } = await burst(200, cluster.state());
    await pause(2000); // a second delivery would arrive now
    for (const w of workIds) expect(new Set((cluster.receiver.messages.get(w) ?? []).map((m) => m.webhookId)).size, w).toBe(1);
    console.log(`200 submissions graded and delivered in ${ms} ms; attempts per host: ${JSON.stringify(Object.fromEntries(hosts))}`);
    expect(hosts.get('host-1')).toBeGreaterThan(0);
    expect(hosts.get('host-2')).toBeGreaterThan(0);
    expect([...hosts.keys()].sort()).toEqual(['host-1', 'host-2']);
  }, 300_000);

  it('survives a grading host killed by PID; `gradeflow cluster restart host 1` brings it back', async () => {
    const killed = cluster.state().processes.hosts[0]!.workerPid;
    process.kill(killed, 'SIGKILL');
    const down = await cluster.waitForState('the state file to mark worker 1 down', (s) => !s.processes.hosts[0]!.workerUp, 10_000);
    expect(down.down).toEqual(['worker 1']);
    expect(cluster.child.exitCode).toBeNull();
    for (const url of down.api) expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(cluster.log()).toContain(`worker 1 (pid ${killed}) exited`);

    // As an operator types it: the CLI, not the control socket directly.
    const { stderr } = await promisify(execFile)(process.execPath, [BIN, 'cluster', 'restart', 'host', '1', '--dir', cluster.clusterDir], {
      env: { ...process.env, GRADEFLOW_CONFIG: cluster.configFile },
    });
    expect(stderr).toContain('worker 1 is up');
    const after = cluster.state();
    expect(after.down).toEqual([]);
    expect(after.processes.hosts[0]!.workerUp).toBe(true);
    expect(after.processes.hosts[0]!.workerPid).not.toBe(killed);
    expect(alive(after.processes.hosts[0]!.workerPid)).toBe(true);

    const { hosts } = await burst(60, after);
    expect(hosts.get('host-1')).toBeGreaterThan(0);
  }, 240_000);

  it('stops every process it started on SIGTERM, leaving no container on its daemons', async () => {
    const state = cluster.state();
    const pids = [state.supervisorPid, state.processes.postgres, state.processes.temporal, state.processes.registry, ...state.processes.servers.map((s) => s.pid),
      ...state.processes.hosts.flatMap((h) => [h.dockerdPid, h.workerPid])];
    cluster.child.kill('SIGTERM');
    await until('the cluster to exit', () => (cluster.child.exitCode !== null ? true : undefined), 120_000);
    expect(cluster.child.exitCode).toBe(0);
    for (const pid of pids) expect(alive(pid), String(pid)).toBe(false);
    for (const h of ['host-1', 'host-2']) {
      expect(readdirSync(path.join(cluster.clusterDir, h, 'data', 'containers'))).toEqual([]);
    }
    expect(existsSync(cluster.stateFile)).toBe(false);
  }, 180_000);
});
