import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import Dockerode from 'dockerode';
import { startReceiver, type Receiver } from '../../test/helpers/receiver';
import { measureFloor, type FloorResult } from '../floor/measure-floor';
import { postJson } from '../http-client';
import { percentile, ProcessWatch } from '../measure';
import { rawGrading } from '../raw';
import { calibrateCpu, pool, round, SCRIPTS, stats, type Stats, type Workload } from '../run';
import { growth, snapshotDatabase, type DatabaseGrowth } from './database-growth';
import { CLUSTER_BENCH_IMAGE, provideBenchImage } from './images';
import { launchCluster, type ClusterState, type RunningCluster } from './launch';
import { LoadWatch, type MachineLoad } from './machine-load';

export interface ClusterBenchOptions {
  workloads: Workload[];
  /** Gradings per cell: per workload, per topology (1 or 2 hosts), per way (raw, gradeflow). */
  items: Record<Workload, number>;
  /** Rounds per cell; the order of topologies and of ways alternates from one round to the next. */
  rounds: number;
  /** One-at-a-time gradings of each way, for the overhead (0 to skip). */
  latencyItems: number;
  /** Seconds of an idle cluster (nothing submitted) whose CPU and database writes are the background to subtract (0 to skip). */
  idleSeconds: number;
  /** Workflows of the Temporal floor on the cluster's server (0 to skip). */
  floor: number;
  /** Container slots per grading host. */
  slots: number;
  /** `gradeflow server`s sharing the database. */
  servers: number;
  log?: (line: string) => void;
  onPartial?: (partial: ClusterBenchResult) => void;
}

export const CLUSTER_DEFAULTS: Omit<ClusterBenchOptions, 'log' | 'onPartial'> = {
  workloads: ['trivial', 'cpu'],
  items: { trivial: 100, cpu: 20 },
  rounds: 4,
  latencyItems: 40,
  idleSeconds: 30,
  floor: 300,
  slots: 2,
  servers: 2,
};

/** The control plane's process trees, and the grading hosts' Docker daemons (reported apart). */
const CONTROL_PLANE = ['servers', 'workers', 'temporal', 'postgres'] as const;
type CpuGroup = (typeof CONTROL_PLANE)[number] | 'dockerd';

interface TopologyCell {
  workload: Workload;
  hosts: number;
  items: number;
  raw: Stats;
  gradeflow: Stats;
  /** gradeflow's throughput over raw's on the same daemons with the same slots. */
  ratio: number;
  /** Attempts per grading host in gradeflow's gradings (from `GET /v1/submissions/:id`). */
  attemptsPerHost: Record<string, number>;
  /** gradeflow: CPU seconds per grading of each tree, and the control plane's sum. */
  cpuSecondsPerGrading: Record<CpuGroup | 'controlPlane', number>;
  /** raw: the Docker daemons' CPU seconds per grading (what Docker itself costs, the same both ways). */
  rawDockerdCpuSecondsPerGrading: number;
}

export interface ClusterBenchResult {
  date: string;
  commit?: string;
  topology: 'cluster';
  machine: { cpus: number; memoryGb: number; node: string };
  options: Omit<ClusterBenchOptions, 'log' | 'onPartial'>;
  cluster: { hosts: number; servers: number; slotsPerHost: number; startS: number };
  /** Awk iterations of the cpu workload (≈ 1 s of CPU in a container here). */
  cpuIterations: number;
  cells: TopologyCell[];
  /** Throughput with two grading hosts over one, per workload: gradeflow's, and raw Docker's on the same two daemons. */
  scaleOut: Array<{ workload: Workload; gradeflow: number; raw: number }>;
  /** The idle cluster's background (pollers, heartbeats, Temporal's timers and queues): per second. */
  idle?: { seconds: number; cpuCores: Record<CpuGroup | 'controlPlane', number>; walBytesPerS: number; commitsPerS: number };
  controlPlane?: {
    gradings: number;
    /** Over gradeflow's rounds, background included. */
    cpuSecondsPerGrading: Record<CpuGroup | 'controlPlane', number>;
    /** The same less the idle background over the same seconds: what one more grading costs. */
    marginalCpuSecondsPerGrading?: Record<CpuGroup | 'controlPlane', number>;
    /** Temporal + PostgreSQL per grading, next to the same per floor workflow. */
    temporalAndPostgresPerGrading: number;
    floorTemporalAndPostgresPerWorkflow?: number;
    ratioToFloor?: number;
  };
  /** PostgreSQL's growth per grading over the throughput cells (every grading of the window, warm-ups included). */
  database?: DatabaseGrowth & { gradings: number; marginalWalBytesPerGrading?: number; marginalCommitsPerGrading?: number };
  floor?: FloorResult;
  latency?: { items: number; raw: Stats; gradeflow: Stats; overheadP50Ms: number; overheadP95Ms: number };
  /** The machine while the throughput cells ran, and over the whole run. */
  load: { throughput?: MachineLoad; run?: MachineLoad };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

class ClusterApi {
  private next = 0;
  /** Submissions accepted so far. */
  posted = 0;
  constructor(
    private readonly cluster: RunningCluster,
    private readonly receiver: Receiver,
  ) {}

  private url(): string {
    const api = this.cluster.state().api;
    return api[this.next++ % api.length]!;
  }

  /** POST one submission to the next API server in turn; its id and when it was sent. */
  async post(workId: string, script: string): Promise<{ id: string; sentAt: number }> {
    const sentAt = performance.now();
    const res = await postJson(`${this.url()}/v1/submissions`, { authorization: `Bearer ${this.cluster.apiKey}` }, {
      image: CLUSTER_BENCH_IMAGE,
      work_id: workId,
      callback: this.receiver.url(),
      file: { name: 'grade.sh', content_base64: Buffer.from(script).toString('base64') },
    });
    if (res.status !== 202) throw new Error(`POST answered ${res.status}: ${res.body}`);
    this.posted++;
    return { id: (JSON.parse(res.body) as { id: string }).id, sentAt };
  }

  async attemptHosts(id: string): Promise<string[]> {
    const res = await fetch(`${this.url()}/v1/submissions/${id}`, { headers: { authorization: `Bearer ${this.cluster.apiKey}` } });
    const body = (await res.json()) as { status: string; attempts?: Array<{ host: string }> };
    if (body.status !== 'completed') throw new Error(`submission ${id} is ${body.status}, not completed`);
    return (body.attempts ?? []).map((a) => a.host);
  }

  /** `n` gradings submitted at once (open loop, as platforms do), `clients` POSTs in flight; every callback awaited. */
  async batch(n: number, script: string, clients: number) {
    const latencies: number[] = [];
    const ids: string[] = [];
    const begin = performance.now();
    let last = begin;
    const waits: Array<Promise<void>> = [];
    await pool(Array.from({ length: n }, () => `cb-${randomUUID()}`), clients, async (workId) => {
      const { id, sentAt } = await this.post(workId, script);
      ids.push(id);
      waits.push(
        this.receiver.arrival(workId).then((at) => {
          latencies.push(at - sentAt);
          last = Math.max(last, at);
        }),
      );
    });
    await Promise.all(waits);
    return { wallMs: last - begin, latencies, ids };
  }
}

/** `n` raw gradings spread over `daemons`, `slots` loops on each. */
async function rawBatch(daemons: Dockerode[], n: number, script: string, slots: number) {
  const latencies: number[] = [];
  const begin = performance.now();
  await Promise.all(
    daemons.map((docker, d) => {
      const share = Math.floor(n / daemons.length) + (d < n % daemons.length ? 1 : 0);
      return pool(Array.from({ length: share }), slots, async () => {
        const r = await rawGrading(docker, CLUSTER_BENCH_IMAGE, script);
        if (!r.output.includes('"success"')) throw new Error(`raw grading printed: ${r.output}`);
        latencies.push(r.ms);
      });
    }),
  );
  return { wallMs: performance.now() - begin, latencies };
}

/** Register the cluster's current PIDs (a restarted worker has a new one) with a watch, by group. */
function watchCluster(watch: ProcessWatch, state: ClusterState, hosts: number): void {
  state.processes.servers.forEach((s, i) => watch.watch(`servers/${i}`, s.pid));
  state.processes.hosts.slice(0, hosts).forEach((h, i) => {
    watch.watch(`workers/${i}`, h.workerPid);
    watch.watch(`dockerd/${i}`, h.dockerdPid);
  });
  watch.watch('temporal', state.processes.temporal);
  watch.watch('postgres', state.processes.postgres);
}

function grouped(cpu: Record<string, number>): Record<CpuGroup, number> {
  const out: Record<CpuGroup, number> = { servers: 0, workers: 0, temporal: 0, postgres: 0, dockerd: 0 };
  for (const [name, seconds] of Object.entries(cpu)) out[name.split('/')[0] as CpuGroup] += seconds;
  return out;
}

function perGrading(cpu: Record<CpuGroup, number>, n: number): Record<CpuGroup | 'controlPlane', number> {
  const out = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(v / n, 4)])) as Record<CpuGroup | 'controlPlane', number>;
  out.controlPlane = round(sum(CONTROL_PLANE.map((k) => cpu[k])) / n, 4);
  return out;
}

/**
 * The production layout measured: `gradeflow cluster` with two grading hosts (one stopped for the
 * one-host cells), against raw dockerode on the same daemons; the control plane's CPU per grading from
 * /proc next to Temporal's floor on the same server; the overhead of one grading at a time.
 */
export async function runClusterBench(options: ClusterBenchOptions): Promise<ClusterBenchResult> {
  const log = options.log ?? (() => undefined);
  const runLoad = new LoadWatch();
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const receiver = await startReceiver(secret, 0, { keepAliveTimeoutMs: 30_000 });
  const began = performance.now();
  let cluster: RunningCluster;
  try {
    await provideBenchImage([]); // built on the default daemon before the cluster starts
    cluster = await launchCluster({ hosts: 2, servers: options.servers, slots: options.slots, callbackSecret: secret, log });
  } catch (err) {
    await receiver.close();
    runLoad.stop();
    throw err;
  }
  const { log: _l, onPartial: _p, ...plainOptions } = options;
  const result: ClusterBenchResult = {
    date: new Date().toISOString(),
    topology: 'cluster',
    machine: { cpus: os.cpus().length, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    options: plainOptions,
    cluster: { hosts: 2, servers: options.servers, slotsPerHost: options.slots, startS: round((performance.now() - began) / 1000) },
    cpuIterations: 0,
    cells: [],
    scaleOut: [],
    load: {},
  };
  const partial = () => options.onPartial?.(result);
  try {
    const state = cluster.state();
    await provideBenchImage(state.processes.hosts.map((h) => h.dockerHost));
    const daemons = state.processes.hosts.map((h) => new Dockerode({ socketPath: h.dockerHost.replace(/^unix:\/\//, '') }));
    const api = new ClusterApi(cluster, receiver);
    result.cpuIterations = options.workloads.includes('cpu') ? await calibrateCpu(daemons[0]!) : 0;
    if (result.cpuIterations) log(`cpu workload: ${result.cpuIterations} awk iterations ≈ 1 s of CPU`);
    // Warm-up: the first container of the image on each daemon, the first workflows of each server.
    await rawBatch(daemons, 2, SCRIPTS.trivial(), 1);
    await api.batch(4 * options.servers, SCRIPTS.trivial(), 4);

    if (options.idleSeconds > 0) {
      const watch = new ProcessWatch();
      watchCluster(watch, cluster.state(), 2);
      const before = await snapshotDatabase(state.processes.postgres);
      watch.start();
      const begin = performance.now();
      await new Promise((r) => setTimeout(r, options.idleSeconds * 1000));
      watch.stop();
      const seconds = (performance.now() - begin) / 1000;
      await new Promise((r) => setTimeout(r, 1500)); // the last commits reach PostgreSQL's statistics
      const after = await snapshotDatabase(state.processes.postgres);
      const rates = perGrading(grouped(watch.takeCpu()), seconds); // per second, here
      watch.close();
      result.idle = {
        seconds: round(seconds),
        cpuCores: rates,
        walBytesPerS: Math.round((after.walBytes - before.walBytes) / seconds),
        commitsPerS: round((after.commits - before.commits) / seconds, 1),
      };
      log(`idle cluster: ${rates.controlPlane} cores of control plane, ${result.idle.commitsPerS} commits/s, ${result.idle.walBytesPerS} B/s of WAL`);
    }

    let hostsUp = 2;
    const useHosts = async (hosts: number) => {
      if (hosts === hostsUp) return;
      if (hosts === 1) await cluster.stopHost(2);
      else {
        await cluster.startHost(2);
        await api.batch(2 * options.slots, SCRIPTS.trivial(), 4); // the restarted worker's first gradings
      }
      hostsUp = hosts;
      log(`${hosts} grading host${hosts > 1 ? 's' : ''} up`);
    };

    const cellKey = (w: Workload, h: number) => `${w}/${h}`;
    const acc = new Map<string, { raw: { wallMs: number; latencies: number[] }; gf: { wallMs: number; watchedMs: number; latencies: number[]; ids: string[] }; gfWatch: ProcessWatch; rawWatch: ProcessWatch }>();
    for (const w of options.workloads) {
      for (const h of [1, 2]) {
        acc.set(cellKey(w, h), { raw: { wallMs: 0, latencies: [] }, gf: { wallMs: 0, watchedMs: 0, latencies: [], ids: [] }, gfWatch: new ProcessWatch(), rawWatch: new ProcessWatch() });
      }
    }
    const throughputLoad = new LoadWatch();
    const dbBefore = await snapshotDatabase(state.processes.postgres);
    const postedBefore = api.posted;
    for (let r = 0; r < options.rounds; r++) {
      for (const hosts of r % 2 === 0 ? [1, 2] : [2, 1]) {
        await useHosts(hosts);
        for (const workload of options.workloads) {
          const n = options.items[workload];
          const perRound = Math.floor(n / options.rounds) + (r < n % options.rounds ? 1 : 0);
          if (perRound === 0) continue;
          const script = workload === 'trivial' ? SCRIPTS.trivial() : SCRIPTS.cpu(result.cpuIterations);
          const cell = acc.get(cellKey(workload, hosts))!;
          const doRaw = async () => {
            watchCluster(cell.rawWatch, cluster.state(), hosts);
            cell.rawWatch.start();
            const b = await rawBatch(daemons.slice(0, hosts), perRound, script, options.slots);
            cell.rawWatch.stop();
            cell.raw.wallMs += b.wallMs;
            cell.raw.latencies.push(...b.latencies);
          };
          const doGradeflow = async () => {
            watchCluster(cell.gfWatch, cluster.state(), hosts);
            cell.gfWatch.start();
            const watchedFrom = performance.now();
            const b = await api.batch(perRound, script, hosts * options.slots * 2);
            cell.gfWatch.stop();
            cell.gf.watchedMs += performance.now() - watchedFrom;
            cell.gf.wallMs += b.wallMs;
            cell.gf.latencies.push(...b.latencies);
            cell.gf.ids.push(...b.ids);
          };
          if ((r + hosts) % 2 === 0) {
            await doRaw();
            await doGradeflow();
          } else {
            await doGradeflow();
            await doRaw();
          }
          log(`round ${r + 1}: ${workload}, ${hosts} host(s): ${perRound} each way`);
        }
      }
    }
    result.load.throughput = throughputLoad.stop();
    await new Promise((r) => setTimeout(r, 1500)); // the last commits reach PostgreSQL's statistics
    const windowGradings = api.posted - postedBefore;
    result.database = { gradings: windowGradings, ...growth(dbBefore, await snapshotDatabase(state.processes.postgres), windowGradings) };
    if (result.idle) {
      const background = result.load.throughput.seconds + 1.5;
      result.database.marginalWalBytesPerGrading = Math.round(result.database.walBytesPerGrading - (result.idle.walBytesPerS * background) / windowGradings);
      result.database.marginalCommitsPerGrading = round(result.database.commitsPerGrading - (result.idle.commitsPerS * background) / windowGradings, 1);
    }

    const totals: Record<CpuGroup, number> = { servers: 0, workers: 0, temporal: 0, postgres: 0, dockerd: 0 };
    let gradings = 0;
    let watchedS = 0;
    for (const workload of options.workloads) {
      for (const hosts of [1, 2]) {
        const cell = acc.get(cellKey(workload, hosts))!;
        const n = cell.gf.latencies.length;
        if (n === 0) continue;
        const cpu = grouped(cell.gfWatch.takeCpu());
        const rawDockerd = grouped(cell.rawWatch.takeCpu()).dockerd;
        cell.gfWatch.close();
        cell.rawWatch.close();
        for (const k of Object.keys(totals) as CpuGroup[]) totals[k] += cpu[k];
        gradings += n;
        watchedS += cell.gf.watchedMs / 1000;
        const attemptsPerHost: Record<string, number> = {};
        for (const id of cell.gf.ids) for (const host of await api.attemptHosts(id)) attemptsPerHost[host] = (attemptsPerHost[host] ?? 0) + 1;
        const raw = stats(cell.raw.latencies, cell.raw.latencies.length, cell.raw.wallMs);
        const gradeflow = stats(cell.gf.latencies, n, cell.gf.wallMs);
        result.cells.push({
          workload,
          hosts,
          items: n,
          raw,
          gradeflow,
          ratio: round(gradeflow.throughputPerS / raw.throughputPerS, 3),
          attemptsPerHost,
          cpuSecondsPerGrading: perGrading(cpu, n),
          rawDockerdCpuSecondsPerGrading: round(rawDockerd / cell.raw.latencies.length, 4),
        });
      }
      const [one, two] = [1, 2].map((h) => result.cells.find((c) => c.workload === workload && c.hosts === h));
      if (one && two) {
        result.scaleOut.push({
          workload,
          gradeflow: round(two.gradeflow.throughputPerS / one.gradeflow.throughputPerS, 3),
          raw: round(two.raw.throughputPerS / one.raw.throughputPerS, 3),
        });
      }
    }
    if (gradings > 0) {
      const cpu = perGrading(totals, gradings);
      result.controlPlane = { gradings, cpuSecondsPerGrading: cpu, temporalAndPostgresPerGrading: round(cpu.temporal + cpu.postgres, 4) };
      if (result.idle) {
        const idle = result.idle.cpuCores;
        const marginal = Object.fromEntries((Object.keys(totals) as CpuGroup[]).map((k) => [k, Math.max(0, totals[k] - idle[k] * watchedS)])) as Record<CpuGroup, number>;
        result.controlPlane.marginalCpuSecondsPerGrading = perGrading(marginal, gradings);
      }
    }
    partial();
    for (const c of result.cells) log(`${c.workload}, ${c.hosts} host(s): raw ${c.raw.throughputPerS}/s, gradeflow ${c.gradeflow.throughputPerS}/s (${c.ratio} ×)`);

    if (options.latencyItems > 0) {
      await useHosts(2);
      const raw: number[] = [];
      const gf: number[] = [];
      for (let i = 0; i < options.latencyItems; i++) {
        // Alternating, one at a time: raw on host 1's daemon, gradeflow on whichever host takes it.
        raw.push((await rawBatch([daemons[0]!], 1, SCRIPTS.trivial(), 1)).latencies[0]!);
        gf.push((await api.batch(1, SCRIPTS.trivial(), 1)).latencies[0]!);
      }
      result.latency = {
        items: options.latencyItems,
        raw: stats(raw, raw.length, sum(raw)),
        gradeflow: stats(gf, gf.length, sum(gf)),
        overheadP50Ms: round(percentile(gf, 50) - percentile(raw, 50)),
        overheadP95Ms: round(percentile(gf, 95) - percentile(raw, 95)),
      };
      partial();
      log(`one at a time: raw p50 ${result.latency.raw.p50Ms} ms, gradeflow p50 ${result.latency.gradeflow.p50Ms} ms, overhead p50 ${result.latency.overheadP50Ms} ms`);
    }

    if (options.floor > 0) {
      const s = cluster.state();
      result.floor = await measureFloor(s.temporal.address, { temporal: s.processes.temporal, postgres: s.processes.postgres }, options.floor, 8);
      const f = result.floor.cpuSecondsPerWorkflow;
      if (result.controlPlane && f.temporal !== undefined && f.postgres !== undefined) {
        result.controlPlane.floorTemporalAndPostgresPerWorkflow = round(f.temporal + f.postgres, 4);
        result.controlPlane.ratioToFloor = round(result.controlPlane.temporalAndPostgresPerGrading / (f.temporal + f.postgres), 2);
      }
      partial();
      log(`temporal floor: ${result.floor.perS} workflows/s; CPU per workflow: temporal ${f.temporal} s, postgres ${f.postgres} s, SDK ${f.sdk} s`);
    }
  } finally {
    await cluster.stop();
    await receiver.close();
    result.load.run = runLoad.stop();
  }
  return result;
}
