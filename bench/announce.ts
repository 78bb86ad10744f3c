import { Client, Connection } from '@temporalio/client';
import { ProcessWatch, percentile } from './measure';
import type { ProcessStack } from '../test/helpers/process-stack';

const round = (n: number, digits = 0): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** How the bench grades (bench/run.ts): trivial gradings POSTed to the API, awaited at the receiver. */
export interface GradingDriver {
  /** `n` gradings submitted at once from `clients` clients: the wall time and each POST → callback latency. */
  batch(n: number, clients: number): Promise<{ wallMs: number; latencies: number[] }>;
  /** One grading of `script` under `workId`, until its callback arrives. */
  gradeOne(workId: string, script: string): Promise<void>;
}

/** One side of the A/B: the grading host with the `containerStarted` signal off or on. */
interface AnnounceSide {
  /** Gradings per second, `items` per round submitted at once, `concurrency` slots. */
  throughputPerS: number;
  /** POST → callback of those gradings, ms. */
  p50Ms: number;
  p95Ms: number;
  /** POST → callback, one grading at a time, ms. */
  oneAtATimeP50Ms: number;
  /** CPU seconds per grading of each process tree (api: the server, which runs the workflows). */
  cpuSecondsPerSubmission: Record<string, number>;
  /** Workflow tasks (WORKFLOW_TASK_COMPLETED events) in the history of one trivial grading, and of one whose container runs 1 s. */
  workflowTasksPerGrading?: { trivial?: number; oneSecond?: number };
}

export interface AnnounceResult {
  items: number;
  rounds: number;
  concurrency: number;
  off: AnnounceSide;
  on: AnnounceSide;
  /** on ÷ off: throughput (below 1: slower) and latency (above 1: slower); CPU: on − off, ms per grading. */
  throughputRatio: number;
  p50Ratio: number;
  oneAtATimeP50Ratio: number;
  cpuMsPerSubmissionDelta: Record<string, number>;
}

/** Workflow tasks completed in the history of the bench platform's submission `workId`, once its run has closed. */
async function workflowTasks(client: Client, workId: string): Promise<number | undefined> {
  try {
    const handle = client.workflow.getHandle(`submission/bench/w/${workId}`);
    // The callback arrives inside the last workflow task (the first try is made with the record): wait for the close.
    await handle.result();
    const history = await handle.fetchHistory();
    return history.events?.filter((e) => e.workflowTaskCompletedEventAttributes).length;
  } catch {
    return undefined;
  }
}

/**
 * What the `containerStarted` signal costs (docs/performance.md): the same trivial gradings with the
 * grading host's `worker.announceContainerStart` off and on, in alternating rounds of one run (the host is
 * restarted for each side), so that noise hits both alike. Each round: `items` gradings submitted at once
 * on `concurrency` slots (throughput, latency, CPU per grading), then `oneAtATime` gradings one by one.
 */
export async function measureAnnounceCost(
  stack: ProcessStack,
  grade: GradingDriver,
  o: { items: number; rounds: number; concurrency: number; oneAtATime: number; log: (line: string) => void },
): Promise<AnnounceResult> {
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection });
  const watch = new ProcessWatch();
  const sides = {
    off: { wallMs: 0, latencies: [] as number[], single: [] as number[], cpu: {} as Record<string, number>, tasks: undefined as AnnounceSide['workflowTasksPerGrading'] },
    on: { wallMs: 0, latencies: [] as number[], single: [] as number[], cpu: {} as Record<string, number>, tasks: undefined as AnnounceSide['workflowTasksPerGrading'] },
  };
  const scripts = { trivial: `echo '{"success": true, "grade": 1}'\n`, oneSecond: `sleep 1; echo '{"success": true, "grade": 1}'\n` };
  try {
    for (let r = 0; r < o.rounds; r++) {
      for (const side of r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        const s = sides[side];
        await stack.startWorker(o.concurrency, { announceContainerStart: side === 'on' });
        for (const [name, pid] of Object.entries(stack.pids())) watch.watch(name, pid);
        await grade.batch(1, 1); // warm-up: the new worker's first grading
        watch.start();
        const b = await grade.batch(o.items, o.concurrency * 2);
        watch.stop();
        for (const [k, v] of Object.entries(watch.takeCpu())) s.cpu[k] = (s.cpu[k] ?? 0) + v;
        s.wallMs += b.wallMs;
        s.latencies.push(...b.latencies);
        for (let i = 0; i < o.oneAtATime; i++) s.single.push((await grade.batch(1, 1)).latencies[0]!);
        if (s.tasks === undefined) {
          s.tasks = {};
          for (const kind of ['trivial', 'oneSecond'] as const) {
            const workId = `a-${side}-${kind}-${Date.now()}`;
            await grade.gradeOne(workId, scripts[kind]);
            const n = await workflowTasks(client, workId);
            if (n !== undefined) s.tasks[kind] = n;
          }
        }
        o.log(`announce ${side} round ${r + 1}/${o.rounds}: ${round((b.latencies.length / b.wallMs) * 1000, 2)}/s`);
      }
    }
  } finally {
    watch.close();
    await connection.close();
  }
  const n = o.items * o.rounds;
  const summary = (s: (typeof sides)['on']): AnnounceSide => ({
    throughputPerS: round((n / s.wallMs) * 1000, 2),
    p50Ms: round(percentile(s.latencies, 50)),
    p95Ms: round(percentile(s.latencies, 95)),
    oneAtATimeP50Ms: round(percentile(s.single, 50)),
    cpuSecondsPerSubmission: Object.fromEntries(Object.entries(s.cpu).map(([k, v]) => [k, round(v / n, 4)])),
    ...(s.tasks !== undefined ? { workflowTasksPerGrading: s.tasks } : {}),
  });
  const off = summary(sides.off);
  const on = summary(sides.on);
  return {
    items: o.items,
    rounds: o.rounds,
    concurrency: o.concurrency,
    off,
    on,
    throughputRatio: round(on.throughputPerS / off.throughputPerS, 3),
    p50Ratio: round(on.p50Ms / off.p50Ms, 3),
    oneAtATimeP50Ratio: round(on.oneAtATimeP50Ms / off.oneAtATimeP50Ms, 3),
    cpuMsPerSubmissionDelta: Object.fromEntries(
      Object.keys(on.cpuSecondsPerSubmission).map((k) => [k, round(((on.cpuSecondsPerSubmission[k] ?? 0) - (off.cpuSecondsPerSubmission[k] ?? 0)) * 1000, 2)]),
    ),
  };
}

/** The A/B as lines of the bench's report. */
export function formatAnnounce(a: AnnounceResult): string[] {
  const side = (name: string, s: AnnounceSide) =>
    `  ${name}: ${s.throughputPerS}/s, p50/p95 ${s.p50Ms}/${s.p95Ms} ms, one at a time p50 ${s.oneAtATimeP50Ms} ms, ` +
    `workflow tasks per grading ${s.workflowTasksPerGrading?.trivial ?? '?'} (container of 1 s: ${s.workflowTasksPerGrading?.oneSecond ?? '?'}), CPU s per grading ${Object.entries(s.cpuSecondsPerSubmission).map(([k, v]) => `${k} ${v}`).join(', ')}`;
  return [
    `containerStarted signal (worker.announceContainerStart), ${a.rounds} alternating rounds of ${a.items} trivial gradings on ${a.concurrency} slots:`,
    side('off', a.off),
    side('on ', a.on),
    `  on ÷ off: throughput ${a.throughputRatio}, p50 ${a.p50Ratio}, one at a time p50 ${a.oneAtATimeP50Ratio}; ` +
      `CPU ms per grading on − off: ${Object.entries(a.cpuMsPerSubmissionDelta).map(([k, v]) => `${k} ${v >= 0 ? '+' : ''}${v}`).join(', ')}`,
  ];
}
