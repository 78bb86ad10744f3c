import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alive,
  deliveryCounts,
  pause,
  startClusterProcess,
  sumSubmission,
  until,
  type Accepted,
  type ClusterProcess,
} from '../helpers/cluster-process';

/**
 * Every fault of the production layout, one after another on one `gradeflow cluster` (2 grading hosts,
 * 2 servers), healed before the next: each ends with every submission delivered exactly once (one
 * webhook-id, attempt 1: the student is never charged for the fault) and nothing left on the daemons.
 */

let cluster: ClusterProcess;
const QUICK = sumSubmission();
/** 5 test cases × 2 s: long enough to kill something mid-grade. */
const SLOW = sumSubmission(2);

beforeAll(async () => {
  cluster = await startClusterProcess({
    hosts: 2,
    servers: 2,
    slots: 4,
    config: {
      // A lost host is noticed in seconds, not the default 20; stored, unstarted rows are picked up every 2 s.
      heartbeatTimeouts: { runContainerSeconds: 8, awaitContainerSeconds: 8 },
      server: { reconcileIntervalMs: 2000 },
      // Leftovers of a restarted daemon go with the host's periodic sweep: every 10 s, not the default 60.
      worker: { shutdownGraceSeconds: 5, reapIntervalSeconds: 10 },
    },
  });
  console.log(`cluster up in ${cluster.startMs} ms`);
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
}, 180_000);

const workIds = (n: number, what: string): string[] => Array.from({ length: n }, () => `${what}-${randomUUID()}`);

/** Submit `n`, spread over the servers; each with fail-over until accepted. */
function burst(ids: string[], content: string, onAccepted?: (a: Accepted, count: number) => void): Promise<Accepted[]> {
  let count = 0;
  return Promise.all(
    ids.map((w, i) =>
      cluster.submitUntilAccepted(w, content, i).then((a) => {
        onAccepted?.(a, ++count);
        return a;
      }),
    ),
  );
}

/** Every work_id called back once, for attempt 1; each submission completed with full marks. */
async function expectDeliveredOnce(accepted: Accepted[]): Promise<Map<string, string[]>> {
  const ids = accepted.map((a) => a.workId);
  await cluster.arrivals(ids);
  await pause(2000); // a second delivery would arrive now
  const counts = deliveryCounts(cluster.receiver, ids);
  expect(counts.lost).toEqual([]);
  expect(counts.twice).toEqual([]);
  for (const w of ids) expect(cluster.receiver.messages.get(w)!.map((m) => m.attempt), w).toEqual(expect.arrayContaining([1]));
  const hostsOf = new Map<string, string[]>();
  for (const a of accepted) {
    const s = await cluster.submission(a.id);
    expect(s.status, a.id).toBe('completed');
    expect(s.result?.grade, a.id).toBe(10);
    expect(s.attempts.map((t) => t.attempt), a.id).toEqual([1]);
    hostsOf.set(a.id, s.attempts.map((t) => t.host));
  }
  return hostsOf;
}

/** Submission ids of the gradeflow containers running on host `index` now. */
async function runningOn(index: number): Promise<string[]> {
  return (await cluster.containers(index)).filter((c) => c.State === 'running').map((c) => c.Labels['dev.gradeflow.submission']!);
}

/** Slow submissions until at least one is grading on host `index`; the ids of those there. */
async function gradingOn(index: number, n: number): Promise<{ accepted: Accepted[]; there: string[] }> {
  const accepted = await burst(workIds(n, `slow-h${index}`), SLOW);
  const there = await until(`a grading on host-${index}`, async () => {
    const ids = await runningOn(index);
    return ids.length ? ids : undefined;
  }, 60_000);
  return { accepted, there };
}

/** ms from `t0` (performance.now()) to the last first callback of these work_ids: how long the fault held them up. */
function lastArrivalAfter(t0: number, accepted: Accepted[]): number {
  return Math.round(Math.max(...accepted.map((a) => cluster.receiver.arrivals.get(a.workId)![0]!)) - t0);
}

async function expectHealed(): Promise<void> {
  const s = await cluster.waitForState('every part up', (st) => st.down.length === 0);
  expect(s.down).toEqual([]);
  expect(cluster.child.exitCode).toBeNull();
  const pids = [s.processes.postgres, s.processes.temporal, ...s.processes.servers.map((x) => x.pid), ...s.processes.hosts.flatMap((h) => [h.dockerdPid, h.workerPid])];
  for (const pid of pids) expect(alive(pid), String(pid)).toBe(true);
}

describe('faults on gradeflow cluster --hosts 2 --servers 2', () => {
  it('a grading host SIGKILLed mid-grade: the other host grades it as the same attempt; its container is removed when it comes back', async () => {
    const before = cluster.state();
    // 16 slow gradings: a host takes at most 2 per slot (4 slots: 8), so host-1 gets some whichever host
    // Temporal's matcher favours.
    const { accepted, there } = await gradingOn(1, 16);
    const killedAt = performance.now();
    process.kill(before.processes.hosts[0]!.workerPid, 'SIGKILL');
    await cluster.waitForState('worker 1 marked down', (s) => s.down.includes('worker 1'));

    const hostsOf = await expectDeliveredOnce(accepted);
    console.log(`host fault: ${there.length} gradings moved to host-2; last of 16 delivered ${lastArrivalAfter(killedAt, accepted)} ms after the kill`);
    for (const id of there) expect(hostsOf.get(id), id).toEqual(['host-2']);
    // The dead host's containers are still on its daemon: nobody was left to remove them.
    const left = (await cluster.containers(1)).map((c) => c.Labels['dev.gradeflow.submission']);
    expect(left).toEqual(expect.arrayContaining(there));

    const message = await cluster.restart('host', 1);
    expect(message).toContain('worker 1 is up');
    // The restarted host's first sweep (before it polls) removed them: their attempts are over.
    expect(await cluster.containers(1)).toEqual([]);
    expect(cluster.log()).toContain('worker 1');
    await expectHealed();
  }, 300_000);

  it('a grading host SIGKILLed with its Docker daemon mid-grade: graded on the other host; nothing left once it is back', async () => {
    const before = cluster.state();
    const { accepted, there } = await gradingOn(1, 16);
    const killedAt = performance.now();
    process.kill(before.processes.hosts[0]!.workerPid, 'SIGKILL');
    process.kill(before.processes.hosts[0]!.dockerdPid, 'SIGKILL');
    await cluster.waitForState('host 1 marked down', (s) => s.down.includes('worker 1') && s.down.includes('dockerd 1'));

    const hostsOf = await expectDeliveredOnce(accepted);
    console.log(`host + daemon fault: ${there.length} gradings moved to host-2; last of 16 delivered ${lastArrivalAfter(killedAt, accepted)} ms after the kill`);
    for (const id of there) expect(hostsOf.get(id), id).toEqual(['host-2']);

    const message = await cluster.restart('host', 1);
    expect(message).toContain('dockerd 1 is up');
    expect(message).toContain('worker 1 is up');
    expect(await cluster.containers(1)).toEqual([]);
    await expectHealed();
  }, 300_000);

  it('a Docker daemon SIGKILLed mid-grade and restarted: graded once, by whichever host; no container leaked', async () => {
    const before = cluster.state();
    const { accepted } = await gradingOn(1, 16);
    const killedAt = performance.now();
    process.kill(before.processes.hosts[0]!.dockerdPid, 'SIGKILL');
    await cluster.waitForState('dockerd 1 marked down', (s) => s.down.includes('dockerd 1'));
    await pause(2000);
    expect(await cluster.restart('dockerd', 1)).toContain('dockerd 1 is up');

    const hostsOf = await expectDeliveredOnce(accepted);
    const graded = [...hostsOf.values()].flat();
    console.log(`daemon fault: graded on host-1 ${graded.filter((h) => h === 'host-1').length}, host-2 ${graded.filter((h) => h === 'host-2').length}; last of 16 delivered ${lastArrivalAfter(killedAt, accepted)} ms after the kill`);
    // The containers the restarted daemon still lists, of attempts that are over, go with the host's next periodic sweep.
    await until('no container left on host-1', async () => ((await cluster.containers(1)).length === 0 ? true : undefined), 60_000);
    expect(await cluster.containers(2)).toEqual([]);
    await expectHealed();
  }, 300_000);

  it('one of two API servers SIGKILLed during a burst of POSTs: clients fail over; every accepted submission graded once', async () => {
    const before = cluster.state();
    let killed = false;
    let killedAt = 0;
    const accepted = await burst(workIds(80, 'api'), QUICK, (_a, count) => {
      if (count === 15 && !killed) {
        killed = true;
        killedAt = performance.now();
        process.kill(before.processes.servers[0]!.pid, 'SIGKILL');
      }
    });
    expect(killed).toBe(true);
    const failedOver = accepted.filter((a) => a.answers.some((x) => x.status === 0));
    console.log(`API fault: ${failedOver.length} of 80 POSTs failed over to the other server`);
    for (const a of accepted) for (const x of a.answers) expect([0, 200, 202, 503], JSON.stringify(x)).toContain(x.status);

    await expectDeliveredOnce(accepted);
    console.log(`API fault: last of 80 delivered ${lastArrivalAfter(killedAt, accepted)} ms after the kill`);
    expect(await cluster.restart('server', 1)).toContain('server 1 is up');
    await expectHealed();
  }, 300_000);

  it('the Temporal server SIGKILLed and restarted mid-burst: all graded once', async () => {
    const before = cluster.state();
    const ids = workIds(60, 'temporal');
    const accepting = burst(ids, QUICK);
    await until('the first callbacks', () => (ids.filter((w) => cluster.receiver.messages.has(w)).length >= 5 ? true : undefined), 120_000);
    const killedAt = performance.now();
    process.kill(before.processes.temporal, 'SIGKILL');
    await cluster.waitForState('temporal marked down', (s) => s.down.includes('temporal'));
    await pause(3000);
    expect(await cluster.restart('temporal')).toContain('temporal is up');

    const restartedAt = performance.now();
    const accepted = await accepting;
    await expectDeliveredOnce(accepted);
    console.log(`Temporal fault: restarted ${Math.round(restartedAt - killedAt)} ms after the kill; last of 60 delivered ${lastArrivalAfter(restartedAt, accepted)} ms after the restart`);
    await expectHealed();
  }, 300_000);

  it('PostgreSQL restarted mid-burst: the API answers 503 with Retry-After meanwhile, never a 500; all graded once', async () => {
    // POSTs keep coming, one every 100 ms, from before the restart until after it.
    let restarted = false;
    const restarting = pause(1000).then(() => cluster.restart('postgres')).finally(() => (restarted = true));
    const pending: Array<Promise<Accepted>> = [];
    for (let after = 0; after < 10; ) {
      pending.push(cluster.submitUntilAccepted(`postgres-${randomUUID()}`, QUICK, pending.length));
      await pause(100);
      if (restarted) after++;
    }
    expect(await restarting).toContain('postgres is up');
    const restartedAt = performance.now();
    const accepted = await Promise.all(pending);
    const answers = accepted.flatMap((a) => a.answers);
    const unavailable = answers.filter((x) => x.status === 503);
    console.log(`PostgreSQL fault: ${accepted.length} submissions, ${answers.length} POSTs, ${unavailable.length} answered 503, ${answers.filter((x) => x.status === 0).length} unanswered`);
    for (const x of answers) expect([200, 202, 503], JSON.stringify(x)).toContain(x.status);
    expect(unavailable.length).toBeGreaterThan(0);
    for (const x of unavailable) expect(Number(x.retryAfter), JSON.stringify(x)).toBeGreaterThan(0);

    await expectDeliveredOnce(accepted);
    console.log(`PostgreSQL fault: last delivered ${lastArrivalAfter(restartedAt, accepted)} ms after the restart`);
    await expectHealed();
  }, 300_000);
});
