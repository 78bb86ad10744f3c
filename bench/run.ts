import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type Dockerode from 'dockerode';
import { LABELS } from '../src/activities/docker/container-options';
import { ensureDocker } from '../src/setup/docker';
import { ensureImageFromDir, ensureImages } from '../src/setup/images';
import { formatAnnounce, measureAnnounceCost, type AnnounceResult } from './announce';
import { measureFloor, type FloorResult } from './floor/measure-floor';
import { percentile, ProcessWatch } from './measure';
import { RAW_HOST_ID, rawGrading } from './raw';
import { BENCH_IMAGE } from '../test/helpers/images';
import { startProcessStack, type ProcessStack } from '../test/helpers/process-stack';
import { startReceiver, type Receiver } from '../test/helpers/receiver';
import { postJson } from './http-client';
import { placeProcesses } from './placement';

export type Workload = 'trivial' | 'cpu';

export interface BenchOptions {
  workloads: Workload[];
  concurrency: number[];
  items: Record<Workload, number>;
  /** Each cell alternates raw and gradeflow in this many rounds, so noise hits both alike. */
  rounds: number;
  /** One-at-a-time gradings of each way, for latency and overhead. */
  latencyItems: number;
  intake: number;
  burst: number;
  /** Workflows of the Temporal floor measurement (a grading's shape, nothing of gradeflow; 0 to skip). */
  floor: number;
  /** Gradings per round of the containerStarted signal's off/on comparison (bench/announce.ts; 0 to skip). */
  announce?: number;
  /** The burst stops waiting when no callback has arrived for this long, and counts the rest as lost. */
  burstStallMs: number;
  /** Concurrent API clients for intake and burst. */
  clients: number;
  /**
   * Nice value of the control plane (API, Temporal, PostgreSQL) against the grading path (grading host,
   * dockerd, containers); 0 for equal priority, as production runs it (10 made no difference beyond noise).
   */
  controlNice: number;
  /**
   * The control plane (API, Temporal, PostgreSQL, and this bench's platform side) on CPU 0 and the grading
   * path (grading host, dockerd, containers) on the other CPUs, as when they run on different machines.
   */
  splitCores: boolean;
  temporalAddress?: string;
  log?: (line: string) => void;
  /** Called with the result so far after each phase (a long run leaves its numbers even if stopped). */
  onPartial?: (partial: BenchResult) => void;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  workloads: ['trivial', 'cpu'],
  concurrency: [1, 2, 4],
  items: { trivial: 200, cpu: 40 },
  rounds: 4,
  latencyItems: 40,
  intake: 1000,
  burst: 10000,
  floor: 300,
  burstStallMs: 600_000,
  clients: 32,
  controlNice: 0,
  splitCores: false,
};

export interface Stats {
  throughputPerS: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

interface CellResult {
  workload: Workload;
  concurrency: number;
  items: number;
  raw: Stats;
  gradeflow: Stats & { maxContainers: number };
  ratio: number;
  cpuSecondsPerSubmission: Record<string, number>;
}

interface IntakeResult {
  posts: number;
  clients: number;
  accepted: number;
  acceptedPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** The ten slowest POSTs and when each was sent (ms after the first). */
  slowest: Array<{ atMs: number; ms: number }>;
  drainedS: number;
}

export interface BenchResult {
  date: string;
  commit?: string;
  machine: { cpus: number; memoryGb: number; node: string };
  options: Omit<BenchOptions, 'log'>;
  cells: CellResult[];
  latency?: { raw: Stats; gradeflow: Stats; overheadP50Ms: number };
  /** Measured with the grading host frozen: the API, Temporal and the database alone. */
  intake?: IntakeResult;
  /** The same while grading competes for the same cores. */
  intakeUnderLoad?: IntakeResult;
  burst?: {
    posts: number;
    accepted: number;
    delivered: number;
    lost: number;
    duplicated: number;
    redelivered: number;
    acceptS: number;
    drainS: number;
    workerPeakRssMb: number;
    /** Submissions whose callback never came (the burst stopped waiting after `burstStallMs` without one). */
    undelivered?: string[];
  };
  /** Temporal's own cost for a workflow of a grading's shape, on the same server and cores. */
  floor?: FloorResult;
  /** The containerStarted signal's cost: the grading host with it off and on (bench/announce.ts). */
  announce?: AnnounceResult;
  peakRssMb: Record<string, number>;
  targets: Array<{ name: string; target: string; value: string; met: boolean }>;
}

export const SCRIPTS = {
  trivial: () => `echo '{"success": true, "grade": 1}'\n`,
  cpu: (iterations: number) => `awk 'BEGIN { for (i = 0; i < ${iterations}; i++) s += i; print "{\\"success\\": true, \\"grade\\": 1}" }'\n`,
};

export function stats(latencies: number[], items: number, wallMs: number): Stats {
  return {
    throughputPerS: round((items / wallMs) * 1000, 2),
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    p99Ms: round(percentile(latencies, 99)),
  };
}

export const round = (n: number, digits = 0): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Run `fn` over `items` with at most `concurrency` at once. */
export async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Samples how many gradeflow containers exist on the host while `run` runs. */
async function maxContainersDuring<T>(docker: Dockerode, hostId: string, run: () => Promise<T>): Promise<{ value: T; max: number }> {
  let max = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const list = await docker.listContainers({ all: true, filters: { label: [`${LABELS.host}=${hostId}`] } }).catch(() => []);
      max = Math.max(max, list.length);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    return { value: await run(), max };
  } finally {
    sampling = false;
    await sampler;
  }
}

class Api {
  constructor(
    private readonly stack: ProcessStack,
    private readonly receiver: Receiver,
  ) {}

  /** POST one submission; resolves with the HTTP status and how long the API took. */
  async post(workId: string, script: string): Promise<{ status: number; ms: number; sentAt: number }> {
    const sentAt = performance.now();
    const res = await postJson(`${this.stack.apiUrl}/v1/submissions`, { authorization: `Bearer ${this.stack.apiKey}` }, {
      image: BENCH_IMAGE.tag,
      work_id: workId,
      callback: this.receiver.url(),
      file: { name: 'grade.sh', content_base64: Buffer.from(script).toString('base64') },
    });
    return { status: res.status, ms: performance.now() - sentAt, sentAt };
  }
}

/** Submit `n` gradings at once (open loop, as platforms do) and wait for every callback. */
async function gradeflowBatch(api: Api, receiver: Receiver, n: number, script: string, clients: number) {
  const ids = Array.from({ length: n }, () => `b-${randomUUID()}`);
  const latencies: number[] = [];
  const begin = performance.now();
  let last = begin;
  const waits: Array<Promise<void>> = [];
  await pool(ids, clients, async (id) => {
    const { status, sentAt } = await api.post(id, script);
    if (status !== 202) throw new Error(`POST answered ${status}`);
    waits.push(
      receiver.arrival(id).then((at) => {
        latencies.push(at - sentAt);
        last = Math.max(last, at);
      }),
    );
  });
  await Promise.all(waits);
  return { wallMs: last - begin, latencies };
}

/** `n` POSTs from `clients` concurrent clients: latency of each, and the rate of acceptance. */
async function measureIntake(api: Api, n: number, clients: number) {
  const ids = Array.from({ length: n }, () => `i-${randomUUID()}`);
  const times: number[] = [];
  const sent: Array<{ atMs: number; ms: number }> = [];
  let accepted = 0;
  const begin = performance.now();
  await pool(ids, clients, async (id) => {
    const r = await api.post(id, SCRIPTS.trivial());
    times.push(r.ms);
    sent.push({ atMs: round(r.sentAt - begin), ms: round(r.ms) });
    if (r.status === 202) accepted++;
  });
  const postS = (performance.now() - begin) / 1000;
  return {
    ids,
    begin,
    postS,
    summary: {
      posts: n,
      clients,
      accepted,
      acceptedPerS: round(accepted / postS, 1),
      p50Ms: round(percentile(times, 50), 1),
      p99Ms: round(percentile(times, 99), 1),
      slowest: sent.sort((a, b) => b.ms - a.ms).slice(0, 10),
    },
  };
}

/** `n` raw gradings with `concurrency` loops. */
async function rawBatch(docker: Dockerode, n: number, script: string, concurrency: number) {
  const latencies: number[] = [];
  const begin = performance.now();
  await pool(Array.from({ length: n }), concurrency, async () => {
    const r = await rawGrading(docker, BENCH_IMAGE.tag, script);
    if (!r.output.includes('"success"')) throw new Error(`raw grading printed: ${r.output}`);
    latencies.push(r.ms);
  });
  return { wallMs: performance.now() - begin, latencies };
}

/** Iterations of the awk loop that burn about one second of CPU in a container here. */
export async function calibrateCpu(docker: Dockerode): Promise<number> {
  const small = 2_000_000;
  await rawGrading(docker, BENCH_IMAGE.tag, SCRIPTS.cpu(small)); // warm-up
  const a = (await rawGrading(docker, BENCH_IMAGE.tag, SCRIPTS.cpu(small))).ms;
  const b = (await rawGrading(docker, BENCH_IMAGE.tag, SCRIPTS.cpu(small * 3))).ms;
  const msPerIteration = (b - a) / (small * 2);
  return Math.round(1000 / msPerIteration);
}

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const log = options.log ?? (() => undefined);
  const partial = (r: BenchResult) => options.onPartial?.({ ...r, targets: judge(r) });
  const docker = await ensureDocker();
  await ensureImages(docker);
  await ensureImageFromDir(docker, BENCH_IMAGE);
  const cpuIterations = options.workloads.includes('cpu') ? await calibrateCpu(docker) : 0;
  if (cpuIterations) log(`cpu workload: ${cpuIterations} awk iterations ≈ 1 s of CPU`);

  const placement = placeProcesses(options);
  let stack: ProcessStack;
  try {
    stack = await startProcessStack({ placement, ...(options.temporalAddress ? { temporalAddress: options.temporalAddress } : {}) });
  } catch (err) {
    placement.restore();
    throw err;
  }
  const receiver = await startReceiver(stack.secret, 0, { keepAliveTimeoutMs: 30_000 });
  const api = new Api(stack, receiver);
  const watch = new ProcessWatch();
  const watchAll = () => {
    for (const [name, pid] of Object.entries(stack.pids())) watch.watch(name, pid);
  };
  const result: BenchResult = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    options: { ...options, log: undefined, onPartial: undefined } as Omit<BenchOptions, 'log'>,
    cells: [],
    peakRssMb: {},
    targets: [],
  };
  delete (result.options as Partial<BenchOptions>).log;
  delete (result.options as Partial<BenchOptions>).onPartial;

  try {
    let slots = 0;
    const useSlots = async (c: number) => {
      if (slots === c) return;
      await stack.startWorker(c);
      slots = c;
      watchAll();
      // Warm both ways up: first container of an image, first workflow of a worker.
      await gradeflowBatch(api, receiver, 1, SCRIPTS.trivial(), 1);
      await rawBatch(docker, 1, SCRIPTS.trivial(), 1);
    };

    for (const workload of options.workloads) {
      const script = workload === 'trivial' ? SCRIPTS.trivial() : SCRIPTS.cpu(cpuIterations);
      for (const c of options.concurrency) {
        await useSlots(c);
        const n = options.items[workload];
        const perRound = Math.max(1, Math.ceil(n / options.rounds));
        const raw = { wallMs: 0, latencies: [] as number[] };
        const gf = { wallMs: 0, latencies: [] as number[], max: 0 };
        for (let done = 0, r = 0; done < n; done += perRound, r++) {
          const k = Math.min(perRound, n - done);
          const doRaw = async () => {
            // Sampled like gradeflow's rounds, so that the sampling's own Docker calls weigh on both ways alike.
            const { value: b } = await maxContainersDuring(docker, RAW_HOST_ID, () => rawBatch(docker, k, script, c));
            raw.wallMs += b.wallMs;
            raw.latencies.push(...b.latencies);
          };
          const doGradeflow = async () => {
            watch.start();
            const { value: b, max } = await maxContainersDuring(docker, stack.hostId, () => gradeflowBatch(api, receiver, k, script, c * 2));
            watch.stop();
            gf.wallMs += b.wallMs;
            gf.latencies.push(...b.latencies);
            gf.max = Math.max(gf.max, max);
          };
          if (r % 2 === 0) {
            await doRaw();
            await doGradeflow();
          } else {
            await doGradeflow();
            await doRaw();
          }
        }
        const cpu = watch.takeCpu();
        const cell: CellResult = {
          workload,
          concurrency: c,
          items: n,
          raw: stats(raw.latencies, n, raw.wallMs),
          gradeflow: { ...stats(gf.latencies, n, gf.wallMs), maxContainers: gf.max },
          ratio: round(raw.wallMs / gf.wallMs, 3),
          cpuSecondsPerSubmission: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(v / n, 4)])),
        };
        result.cells.push(cell);
        partial(result);
        log(
          `${workload} c=${c}: raw ${cell.raw.throughputPerS}/s, gradeflow ${cell.gradeflow.throughputPerS}/s, ratio ${cell.ratio}, ` +
            `max containers ${cell.gradeflow.maxContainers}`,
        );
      }
    }

    if (options.latencyItems > 0) {
      await useSlots(1);
      const raw: number[] = [];
      const gf: number[] = [];
      for (let i = 0; i < options.latencyItems; i++) {
        raw.push((await rawBatch(docker, 1, SCRIPTS.trivial(), 1)).latencies[0]!);
        gf.push((await gradeflowBatch(api, receiver, 1, SCRIPTS.trivial(), 1)).latencies[0]!);
      }
      result.latency = {
        raw: stats(raw, raw.length, raw.reduce((a, b) => a + b, 0)),
        gradeflow: stats(gf, gf.length, gf.reduce((a, b) => a + b, 0)),
        overheadP50Ms: round(percentile(gf, 50) - percentile(raw, 50)),
      };
      partial(result);
      log(`one at a time: raw p50 ${result.latency.raw.p50Ms} ms, gradeflow p50 ${result.latency.gradeflow.p50Ms} ms, overhead ${result.latency.overheadP50Ms} ms`);
    }

    if ((options.announce ?? 0) > 0) {
      const c = Math.max(...options.concurrency);
      const driver = {
        batch: (n: number, clients: number) => gradeflowBatch(api, receiver, n, SCRIPTS.trivial(), clients),
        async gradeOne(workId: string, script: string) {
          await api.post(workId, script);
          await receiver.arrival(workId);
        },
      };
      result.announce = await measureAnnounceCost(stack, driver, {
        items: options.announce!,
        rounds: options.rounds,
        concurrency: c,
        oneAtATime: Math.min(10, options.announce!),
        log,
      });
      // The grading host was restarted for each side: the phases after this start it again.
      slots = 0;
      watchAll();
      partial(result);
      for (const line of formatAnnounce(result.announce)) log(line);
    }

    if (options.floor > 0) {
      result.floor = await measureFloor(stack.temporalAddress, { temporal: stack.pids().temporal }, options.floor, 8);
      partial(result);
      log(`temporal floor: ${result.floor.perS} workflows/s, temporal ${result.floor.cpuSecondsPerWorkflow.temporal ?? '?'} s and SDK ${result.floor.cpuSecondsPerWorkflow.sdk} s of CPU per workflow`);
    }

    if (options.intake > 0 || options.burst > 0) await useSlots(Math.max(...options.concurrency));

    if (options.intake > 0) {
      // Twice: with the grading host frozen (as when it runs on other machines, as in production), then
      // with grading competing for the same two cores.
      for (const paused of [true, false]) {
        if (paused) stack.pauseWorker(true);
        const m = await measureIntake(api, options.intake, options.clients);
        if (paused) stack.pauseWorker(false);
        await Promise.all(m.ids.map((id) => receiver.arrival(id)));
        const summary = { ...m.summary, drainedS: round((performance.now() - m.begin) / 1000, 1) };
        if (paused) result.intake = summary;
        else result.intakeUnderLoad = summary;
        partial(result);
        log(`intake${paused ? '' : ' while grading'}: ${summary.accepted}/${summary.posts} accepted at ${summary.acceptedPerS}/s, p50 ${summary.p50Ms} ms, p99 ${summary.p99Ms} ms`);
      }
    }

    if (options.burst > 0) {
      const { ids, begin, postS: acceptS, summary } = await measureIntake(api, options.burst, options.clients);
      const accepted = summary.accepted;
      log(`burst: ${accepted}/${ids.length} accepted in ${round(acceptS, 1)} s; draining…`);
      let delivered = 0;
      let lastArrival = performance.now();
      const all = Promise.all(
        ids.map((id) =>
          receiver.arrival(id).then(() => {
            delivered++;
            lastArrival = performance.now();
            if (delivered % 1000 === 0) log(`burst: ${delivered}/${ids.length} callbacks`);
          }),
        ),
      );
      // A submission that never finishes must not hang the bench: past a long silence it is counted as lost.
      let stalled = false;
      await Promise.race([
        all,
        (async () => {
          while (delivered < ids.length && performance.now() - lastArrival < options.burstStallMs) await new Promise((r) => setTimeout(r, 1000));
          stalled = delivered < ids.length;
        })(),
      ]);
      const undelivered = stalled ? ids.filter((id) => !receiver.arrivals.has(id)) : [];
      if (stalled) log(`burst: no callback for ${options.burstStallMs / 1000} s; ${undelivered.length} undelivered: ${undelivered.slice(0, 20).join(' ')}`);
      await new Promise((r) => setTimeout(r, 2000)); // late duplicates would arrive now
      // A duplicate is a submission graded and delivered more than once (two distinct messages); the same
      // message arriving again (same webhook-id: at-least-once delivery, which receivers deduplicate by
      // webhook-id per Standard Webhooks) is counted apart as a redelivery.
      const messages = ids.map((id) => receiver.messages.get(id) ?? []);
      const duplicated = messages.filter((m) => new Set(m.map((x) => x.webhookId)).size > 1).length;
      const redelivered = messages.filter((m) => m.length > new Set(m.map((x) => x.webhookId)).size).length;
      result.burst = {
        posts: ids.length,
        accepted,
        delivered,
        lost: ids.length - delivered,
        duplicated,
        redelivered,
        acceptS: round(acceptS, 1),
        drainS: round((performance.now() - begin) / 1000, 1),
        workerPeakRssMb: watch.peaks().worker ?? 0,
        ...(undelivered.length ? { undelivered } : {}),
      };
    }
    result.peakRssMb = watch.peaks();
  } finally {
    watch.close();
    await receiver.close();
    await stack.stop();
    placement.restore();
  }
  result.targets = judge(result);
  return result;
}

/** The issue's targets, each with the measured value. */
function judge(r: BenchResult): BenchResult['targets'] {
  const t: BenchResult['targets'] = [];
  for (const c of r.cells) {
    t.push({ name: `throughput ${c.workload} c=${c.concurrency}`, target: '≥ 0.90 × raw', value: `${c.ratio} ×`, met: c.ratio >= 0.9 });
    t.push({ name: `containers ${c.workload} c=${c.concurrency}`, target: `≤ ${c.concurrency} alive`, value: String(c.gradeflow.maxContainers), met: c.gradeflow.maxContainers <= c.concurrency });
  }
  if (r.latency) t.push({ name: 'p50 orchestration overhead', target: '≤ 60 ms', value: `${r.latency.overheadP50Ms} ms`, met: r.latency.overheadP50Ms <= 60 });
  if (r.intake) {
    t.push({ name: 'intake rate', target: '≥ 200/s', value: `${r.intake.acceptedPerS}/s`, met: r.intake.acceptedPerS >= 200 });
    t.push({ name: 'intake p99', target: '≤ 100 ms', value: `${r.intake.p99Ms} ms`, met: r.intake.p99Ms <= 100 });
  }
  if (r.burst) {
    t.push({ name: 'burst: none lost, none duplicated', target: '0 and 0', value: `${r.burst.lost} and ${r.burst.duplicated}`, met: r.burst.lost === 0 && r.burst.duplicated === 0 });
    t.push({ name: 'worker RSS through the burst', target: '≤ 300 MB', value: `${r.burst.workerPeakRssMb} MB`, met: r.burst.workerPeakRssMb <= 300 });
  }
  return t;
}

/** The result as a plain-text table. */
export function formatResult(r: BenchResult): string {
  const lines: string[] = [];
  const cpu = (c: CellResult) => Object.entries(c.cpuSecondsPerSubmission).map(([k, v]) => `${k} ${v}`).join(', ');
  lines.push(
    r.options.splitCores
      ? `control plane (API, Temporal, PostgreSQL, bench client) on CPU 0; grading host, dockerd and containers on the other CPUs (both ways)`
      : `control plane (API, Temporal, PostgreSQL) at nice ${r.options.controlNice ?? 0}; grading host and dockerd at 0; all share every CPU`,
  );
  lines.push('workload  c  items  raw/s   gradeflow/s  ratio  e2e p50/p95/p99 ms      max ctr  CPU s per submission');
  for (const c of r.cells) {
    lines.push(
      `${c.workload.padEnd(8)} ${String(c.concurrency).padStart(2)} ${String(c.items).padStart(6)}  ${String(c.raw.throughputPerS).padEnd(7)} ` +
        `${String(c.gradeflow.throughputPerS).padEnd(12)} ${String(c.ratio).padEnd(6)} ` +
        `${`${c.gradeflow.p50Ms}/${c.gradeflow.p95Ms}/${c.gradeflow.p99Ms}`.padEnd(23)} ${String(c.gradeflow.maxContainers).padEnd(8)} ${cpu(c)}`,
    );
  }
  // On two shared cores, raw trivial gradings are CPU-bound: a ratio of 0.90 leaves gradeflow (1/0.9 − 1) of
  // raw's CPU per grading. With --split-cores the control plane has a core of its own: no such budget.
  for (const c of r.cells.filter((x) => x.workload === 'trivial' && x.concurrency > 1 && !r.options.splitCores)) {
    const budget = ((1 / 0.9 - 1) * r.machine.cpus) / c.raw.throughputPerS;
    const used = Object.values(c.cpuSecondsPerSubmission).reduce((a, b) => a + b, 0);
    lines.push(`trivial c=${c.concurrency}: CPU per grading allowed for 0.90 × raw when raw saturates ${r.machine.cpus} cores ≈ ${round(budget, 4)} s; gradeflow used ${round(used, 4)} s`);
  }
  if (r.floor) {
    lines.push(
      `temporal floor (a grading's shape, nothing of gradeflow): ${r.floor.perS} workflows/s; CPU per workflow: temporal ${r.floor.cpuSecondsPerWorkflow.temporal ?? 'not measured (not the bench\'s own server)'} s, SDK ${r.floor.cpuSecondsPerWorkflow.sdk} s`,
    );
  }
  if (r.announce) lines.push('', ...formatAnnounce(r.announce));
  if (r.latency) {
    lines.push(
      '',
      `one at a time (trivial): raw lifecycle p50 ${r.latency.raw.p50Ms} ms; gradeflow POST→callback p50/p95/p99 ` +
        `${r.latency.gradeflow.p50Ms}/${r.latency.gradeflow.p95Ms}/${r.latency.gradeflow.p99Ms} ms; overhead p50 ${r.latency.overheadP50Ms} ms`,
    );
  }
  for (const [label, i] of [['intake (grading host frozen)', r.intake], ['intake while grading', r.intakeUnderLoad]] as const) {
    if (i) {
      lines.push(`${label}: ${i.posts} POSTs from ${i.clients} clients: ${i.acceptedPerS}/s accepted, p50 ${i.p50Ms} ms, p99 ${i.p99Ms} ms`);
      lines.push(`  slowest (sent at ms → took ms): ${i.slowest.map((x) => `${x.atMs}→${x.ms}`).join(', ')}`);
    }
  }
  if (r.burst) {
    lines.push(
      `burst: ${r.burst.accepted}/${r.burst.posts} accepted in ${r.burst.acceptS} s, ${r.burst.delivered} delivered, ${r.burst.lost} lost, ` +
        `${r.burst.duplicated} duplicated, ${r.burst.redelivered} redelivered (same message), drained in ${r.burst.drainS} s, worker peak RSS ${r.burst.workerPeakRssMb} MB`,
    );
  }
  lines.push(`peak RSS MB: ${Object.entries(r.peakRssMb).map(([k, v]) => `${k} ${v}`).join(', ')}`, '', 'targets:');
  for (const t of r.targets) lines.push(`  ${t.met ? 'met ' : 'MISS'}  ${t.name}: ${t.value} (target ${t.target})`);
  return lines.join('\n');
}
