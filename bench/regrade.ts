import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type Dockerode from 'dockerode';
import { ensureDocker } from '../src/setup/docker';
import { ensureImageFromDir, ensureImages } from '../src/setup/images';
import { percentile } from './measure';
import { rawGrading } from './raw';
import { pool, round, SCRIPTS } from './run';
import { postJson } from './http-client';
import { BENCH_IMAGE } from '../test/helpers/images';
import { startProcessStack, type ProcessStack } from '../test/helpers/process-stack';
import { startReceiver, type Receiver } from '../test/helpers/receiver';

/**
 * The closing figures of an assignment regrade (issue 17): `submissions` submissions of one assignment
 * (course A, one per student) graded once, then regraded through `POST /v1/assignments/{id}/regrade`
 * with gradeflow's defaults (window, poll interval, regrade priority). Measured in the same run:
 *   - the regrade's wall time against the same number of gradings run raw (bench/raw.ts: dockerode, the
 *     same hardened container, as many at once as the host has slots);
 *   - live submissions of another course (default priority) posted one after another while the regrade
 *     runs: POST → grading start and POST → callback, against one grading alone on the idle stack.
 */
export interface RegradeBenchOptions {
  submissions: number;
  /** The grading host's container slots (the raw baseline runs as many at once). */
  slots: number;
  /** Live submissions posted, one after another, while the regrade runs. */
  live: number;
  /** One-at-a-time gradings on the idle stack (each way) for "one grading's time". */
  single: number;
  temporalAddress?: string;
  log?: (line: string) => void;
}

export const REGRADE_DEFAULTS = { slots: 2, live: 5, single: 5 };

interface Timing {
  toStartMs: number;
  toCallbackMs: number;
}

export interface RegradeBenchResult {
  date: string;
  machine: { cpus: number; memoryGb: number; node: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  options: Omit<RegradeBenchOptions, 'log'>;
  /** One grading alone: gradeflow POST → grading start and → callback (medians), and a raw grading. */
  single: { gradeflow: Timing; rawMs: number };
  /** The first grading of the assignment's submissions (posted at once), POST of the first → last callback. */
  firstGrading: { wallMs: number };
  raw: { wallMs: number; perS: number };
  regrade: { wallMs: number; toLastCallbackMs: number; perS: number; done: number; failed: number; changed: number; ratioToRaw: number };
  live: { samples: Timing[]; medianToStartMs: number; medianToCallbackMs: number; maxToStartMs: number; toCallbackRatioToSingle: number };
}

const median = (xs: number[]): number => round(percentile(xs, 50));

class Platform {
  constructor(
    private readonly stack: ProcessStack,
    private readonly receiver: Receiver,
  ) {}

  private get auth() {
    return { authorization: `Bearer ${this.stack.apiKey}` };
  }

  async post(path: string, body: unknown): Promise<Record<string, unknown>> {
    const res = await postJson(`${this.stack.apiUrl}${path}`, this.auth, body);
    if (res.status !== 202) throw new Error(`POST ${path} answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body) as Record<string, unknown>;
  }

  async get(path: string): Promise<Record<string, any>> {
    const res = await fetch(`${this.stack.apiUrl}${path}`, { headers: this.auth });
    if (!res.ok) throw new Error(`GET ${path} answered ${res.status}`);
    return (await res.json()) as Record<string, any>;
  }

  submit(workId: string, extra: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.post('/v1/submissions', {
      image: BENCH_IMAGE.tag,
      work_id: workId,
      callback: this.receiver.url(),
      file: { name: 'grade.sh', content_base64: Buffer.from(SCRIPTS.trivial()).toString('base64') },
      ...extra,
    });
  }

  /** One submission, alone: POST → its grading start (the attempt's started_at) and → its callback. */
  async timed(extra: Record<string, unknown>): Promise<Timing> {
    const workId = `live-${randomUUID()}`;
    const postedWall = Date.now();
    const postedPerf = performance.now();
    const { id } = await this.submit(workId, extra);
    const arrived = await this.receiver.arrival(workId);
    const sub = await this.get(`/v1/submissions/${String(id)}`);
    const startedAt = Date.parse(sub.attempts?.[0]?.timings?.started_at as string);
    return { toStartMs: round(startedAt - postedWall), toCallbackMs: round(arrived - postedPerf) };
  }
}

/** How many callbacks have arrived for these work ids (the regrade's are each one's second). */
const arrivedCount = (receiver: Receiver, workIds: string[], n: number): number => workIds.filter((w) => (receiver.arrivals.get(w)?.length ?? 0) >= n).length;

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function rawBaseline(docker: Dockerode, n: number, concurrency: number): Promise<number> {
  const begin = performance.now();
  await pool(Array.from({ length: n }), concurrency, async () => {
    const r = await rawGrading(docker, BENCH_IMAGE.tag, SCRIPTS.trivial());
    if (!r.output.includes('"success"')) throw new Error(`raw grading printed: ${r.output}`);
  });
  return performance.now() - begin;
}

export async function runRegradeBench(options: RegradeBenchOptions): Promise<RegradeBenchResult> {
  const log = options.log ?? (() => undefined);
  const loadAverageAtStart = os.loadavg().map((l) => round(l, 2));
  const docker = await ensureDocker();
  await ensureImages(docker);
  await ensureImageFromDir(docker, BENCH_IMAGE);
  const stack = await startProcessStack(options.temporalAddress ? { temporalAddress: options.temporalAddress } : {});
  const receiver = await startReceiver(stack.secret, 0, { keepAliveTimeoutMs: 30_000 });
  const platform = new Platform(stack, receiver);
  const n = options.submissions;
  // Minutes per hundred gradings on a loaded 2-core machine, and then some.
  const patience = 120_000 + n * 2_000;
  try {
    await stack.startWorker(options.slots);
    log(`stack up (${options.slots} slots); warming up`);
    await platform.timed({});
    await rawGrading(docker, BENCH_IMAGE.tag, SCRIPTS.trivial());

    const singles: Timing[] = [];
    const raws: number[] = [];
    for (let i = 0; i < options.single; i++) {
      singles.push(await platform.timed({ course_id: 'course-b' }));
      raws.push((await rawGrading(docker, BENCH_IMAGE.tag, SCRIPTS.trivial())).ms);
    }
    const single = { gradeflow: { toStartMs: median(singles.map((s) => s.toStartMs)), toCallbackMs: median(singles.map((s) => s.toCallbackMs)) }, rawMs: median(raws) };
    log(`one grading alone: gradeflow ${single.gradeflow.toCallbackMs} ms POST → callback, raw ${single.rawMs} ms`);

    const assignment = `bench-hw-${randomUUID().slice(0, 8)}`;
    const workIds = Array.from({ length: n }, (_, i) => `${assignment}-s${i}`);
    const firstBegin = performance.now();
    await pool(workIds, 8, async (workId) => {
      await platform.submit(workId, { assignment_id: assignment, student_id: workId.slice(assignment.length + 1), course_id: 'course-a' });
    });
    await until('the first gradings', () => arrivedCount(receiver, workIds, 1) === n, patience);
    const firstGrading = { wallMs: round(Math.max(...workIds.map((w) => receiver.arrivals.get(w)![0]!)) - firstBegin) };
    log(`${n} submissions graded once in ${firstGrading.wallMs} ms`);

    const rawMs = await rawBaseline(docker, n, options.slots);
    const raw = { wallMs: round(rawMs), perS: round((n / rawMs) * 1000, 2) };
    log(`${n} raw gradings (${options.slots} at once): ${raw.wallMs} ms`);

    const regradeBegin = performance.now();
    const started = await platform.post(`/v1/assignments/${assignment}/regrade`, { reason: 'bench' });
    const regradeId = String(started.regrade_id);
    // Live submissions of course B once the regrade has work queued, one after another.
    const liveSamples: Timing[] = [];
    let progress: Record<string, any> = {};
    const live = (async () => {
      await until('the regrade to run', () => arrivedCount(receiver, workIds, 2) >= Math.min(10, n / 10), patience);
      for (let i = 0; i < options.live; i++) {
        if (progress.finished) break;
        liveSamples.push(await platform.timed({ course_id: 'course-b' }));
      }
    })();
    await until(
      'the regrade to finish',
      async () => {
        progress = await platform.get(`/v1/regrades/${regradeId}`);
        return progress.finished === true || progress.status !== 'running';
      },
      patience,
    );
    const finishedMs = performance.now() - regradeBegin;
    await live;
    await until('the regrade callbacks', () => arrivedCount(receiver, workIds, 2) === n, 60_000);
    const lastCallback = Math.max(...workIds.map((w) => receiver.arrivals.get(w)![1]!)) - regradeBegin;
    const regrade = {
      wallMs: round(finishedMs),
      toLastCallbackMs: round(lastCallback),
      perS: round((n / lastCallback) * 1000, 2),
      done: Number(progress.done),
      failed: Number(progress.failed),
      changed: Number(progress.changed),
      ratioToRaw: round(lastCallback / rawMs, 2),
    };
    log(`regrade of ${n}: ${regrade.toLastCallbackMs} ms to its last callback (${regrade.ratioToRaw}× raw)`);
    if (liveSamples.length === 0) throw new Error('the regrade ended before a live submission could be timed: use more submissions');
    const liveSummary = {
      samples: liveSamples,
      medianToStartMs: median(liveSamples.map((s) => s.toStartMs)),
      medianToCallbackMs: median(liveSamples.map((s) => s.toCallbackMs)),
      maxToStartMs: Math.max(...liveSamples.map((s) => s.toStartMs)),
      toCallbackRatioToSingle: round(median(liveSamples.map((s) => s.toCallbackMs)) / single.gradeflow.toCallbackMs, 2),
    };
    const { log: _log, ...opts } = options;
    return {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadAverageAtStart, loadAverageAtEnd: os.loadavg().map((l) => round(l, 2)) },
      options: opts,
      single,
      firstGrading,
      raw,
      regrade,
      live: liveSummary,
    };
  } finally {
    await receiver.close();
    await stack.stop();
  }
}

export function formatRegradeResult(r: RegradeBenchResult): string {
  const n = r.options.submissions;
  return [
    `assignment regrade of ${n} submissions, ${r.options.slots} slots, ${r.machine.cpus} CPUs (load average ${r.machine.loadAverageAtStart.join(' ')} at start, ${r.machine.loadAverageAtEnd.join(' ')} at end)`,
    `  raw (dockerode, ${r.options.slots} at once):  ${r.raw.wallMs} ms (${r.raw.perS}/s)`,
    `  regrade, POST → last callback:  ${r.regrade.toLastCallbackMs} ms (${r.regrade.perS}/s) = ${r.regrade.ratioToRaw}× raw; reported finished after ${r.regrade.wallMs} ms; done ${r.regrade.done}, failed ${r.regrade.failed}`,
    `  first grading of the same ${n} (posted at once):  ${r.firstGrading.wallMs} ms`,
    `  one grading alone: gradeflow POST → start ${r.single.gradeflow.toStartMs} ms, → callback ${r.single.gradeflow.toCallbackMs} ms; raw ${r.single.rawMs} ms`,
    `  live submission of another course during the regrade (${r.live.samples.length}): POST → start median ${r.live.medianToStartMs} ms (max ${r.live.maxToStartMs}), → callback median ${r.live.medianToCallbackMs} ms = ${r.live.toCallbackRatioToSingle}× one grading alone`,
  ].join('\n');
}
