import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useEventLogger } from '../../src/metrics/event-log';
import { freePort } from '../../src/setup/free-port';
import { SCRIPT_RUNNER } from '../helpers/images';
import { startReceiver, type Receiver } from '../helpers/receiver';
import { b64file, startStack, type Stack } from '../helpers/stack';

/**
 * GET /metrics of a server (API port) and of a grading host (its health port) after real gradings: a
 * success called back, a time limit whose receiver answers 410 Gone, a repeated POST, a regrade of each
 * through an assignment regrade. Counts are compared before and after (exact where the path is
 * deterministic); no label value is an id the platform or gradeflow gave a submission or a student.
 */

type Samples = Map<string, number>;

/** Parse Prometheus text into `name{labels}` → value (labels as printed, in the exporter's order). */
function parse(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (m) out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}

/** The sum of the samples named `name` whose labels include every `labels` pair. */
function sum(s: Samples, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [key, value] of s) {
    const m = /^([^{]+)(\{.*\})?$/.exec(key)!;
    if (m[1] !== name) continue;
    const have = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) total += value;
  }
  return total;
}

/** Every label value in the text. */
function labelValues(text: string): string[] {
  return [...text.matchAll(/[a-zA-Z_]+="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
}

let stack: Stack;
let receiver: Receiver;
let hostMetricsUrl: string;
const lines: Array<Record<string, unknown>> = [];

const scrape = async (url: string): Promise<{ text: string; samples: Samples; type: string | null }> => {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, samples: parse(text), type: res.headers.get('content-type') };
};
const serverMetrics = () => scrape(`${stack.server.url}/metrics`);
const hostMetrics = () => scrape(hostMetricsUrl);

beforeAll(async () => {
  const healthPort = await freePort();
  stack = await startStack('metrics', {
    worker: { hostId: `host-metrics-${process.pid}`, slots: 2, shutdownGraceSeconds: 5, reapIntervalSeconds: 60, healthPort, healthHost: '127.0.0.1' } as Stack['config']['worker'],
  });
  hostMetricsUrl = stack.host!.healthUrl!.replace('/healthz', '/metrics');
  receiver = await startReceiver(stack.secret);
  // The outcome lines of this process's server, captured (the stack's own logger is silent).
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  useEventLogger(pino({ level: 'info' }, sink));
});

afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});

describe('GET /metrics', () => {
  it('counts submissions, gradings, waits, slots and callbacks, with no student or submission id in a label', async () => {
    const s0 = await serverMetrics();
    const h0 = await hostMetrics();
    expect(s0.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const student = 'student-metrics-7f3a';
    const other = 'student-metrics-9c1e';
    const assignment = `asg-metrics-${process.pid}`;
    const ok = { image: SCRIPT_RUNNER, work_id: `m-ok-${process.pid}`, student_id: student, assignment_id: assignment, callback: receiver.url('/ok'), file: b64file('grade.sh', 'echo \'{"success": true, "grade": 4}\'') };
    const slow = {
      image: SCRIPT_RUNNER,
      work_id: `m-slow-${process.pid}`,
      student_id: other,
      assignment_id: assignment,
      callback: receiver.url('/gone'),
      limits: { time_limit_seconds: 2 },
      file: b64file('grade.sh', 'sleep 30'),
    };
    const a = await stack.post(ok);
    expect(a.status).toBe(202);
    expect((await stack.post(ok)).status).toBe(200); // the same work_id again: not a new submission
    const b = await stack.post(slow);
    expect(b.status).toBe(202);
    const ids = [a.body.id as string, b.body.id as string];

    // While the time-limited grader runs, the host's slot gauge says so.
    await stack.waitFor(ids[1]!, (x) => x.status === 'running');
    const during = await hostMetrics();
    expect(sum(during.samples, 'gradeflow_container_slots_in_use', { host: stack.hostId })).toBeGreaterThanOrEqual(1);
    expect(sum(during.samples, 'gradeflow_container_slots', { host: stack.hostId })).toBe(2);

    await receiver.waitForOne((c) => c.body.work_id === ok.work_id);
    await stack.waitFor(ids[0]!, (x) => x.status === 'completed');
    // 410 Gone: the delivery ends at once (given up); the submission is failed (time limit) all the same.
    await stack.waitFor(ids[1]!, (x) => x.attempts[0]?.delivery?.status === 'gone');

    const s1 = await serverMetrics();
    const d = (name: string, labels: Record<string, string> = {}) => sum(s1.samples, name, labels) - sum(s0.samples, name, labels);
    expect(d('gradeflow_submissions_accepted_total', { platform: 'test' })).toBe(2);
    const first = { platform: 'test', flavour: 'default', kind: 'first' };
    expect(d('gradeflow_gradings_total', { ...first, outcome: 'success', reason: 'none', origin: 'none' })).toBe(1);
    expect(d('gradeflow_gradings_total', { ...first, outcome: 'failure', reason: 'time_limit_exceeded', origin: 'student' })).toBe(1);
    expect(d('gradeflow_gradings_total')).toBe(2);
    expect(d('gradeflow_grading_duration_seconds_count', { flavour: 'default' })).toBe(2);
    expect(d('gradeflow_queue_wait_seconds_count', { flavour: 'default' })).toBe(2);
    // The time-limited grading ran at least its 2 s limit.
    expect(d('gradeflow_grading_duration_seconds_bucket', { flavour: 'default', le: '1' })).toBeLessThanOrEqual(1);
    expect(d('gradeflow_grading_duration_seconds_sum', { flavour: 'default' })).toBeGreaterThanOrEqual(2);
    expect(d('gradeflow_callback_deliveries_total', { platform: 'test', result: 'delivered' })).toBe(1);
    expect(d('gradeflow_callback_deliveries_total', { platform: 'test', result: 'gone' })).toBe(1);
    expect(d('gradeflow_callback_deliveries_ended_total', { result: 'given_up' })).toBe(1);

    // An assignment regrade: both students' latest submission, counted as requested and as regrade gradings.
    const rg = await stack.request('POST', `/v1/assignments/${assignment}/regrade`, {});
    expect(rg.status, JSON.stringify(rg.body)).toBe(202);
    const recorded = () => lines.filter((l) => l.event === 'grading_finished' && ids.includes(l.submissionId as string));
    for (const deadline = Date.now() + 60_000; recorded().length < 4 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 200));
    const s2 = await serverMetrics();
    const d2 = (name: string, labels: Record<string, string> = {}) => sum(s2.samples, name, labels) - sum(s1.samples, name, labels);
    expect(d2('gradeflow_regrade_requests_total', { platform: 'test', result: 'requested' })).toBe(2);
    expect(d2('gradeflow_gradings_total', { platform: 'test', kind: 'regrade' })).toBe(2);
    expect(d2('gradeflow_gradings_total', { kind: 'first' })).toBe(0);

    // The Temporal SDK's own metrics follow gradeflow's, on both endpoints.
    expect(s2.text).toMatch(/^temporal_workflow_task_schedule_to_start_latency_seconds_bucket\{/m);
    expect(s2.text).toMatch(/^process_cpu_seconds_total /m);
    const h1 = await hostMetrics();
    expect(h1.text).toMatch(/^temporal_activity_schedule_to_start_latency_seconds_bucket\{/m);
    expect(sum(h1.samples, 'gradeflow_container_slots_in_use', { host: stack.hostId })).toBe(0);
    // Local images are never pulled: no pull counted.
    expect(sum(h1.samples, 'gradeflow_image_pulls_total') - sum(h0.samples, 'gradeflow_image_pulls_total')).toBe(0);
    expect(h1.text).toContain('# TYPE gradeflow_image_pulls_total counter');

    // No label value names a submission, a work id, a student or the assignment.
    const secrets = [...ids, ok.work_id, slow.work_id, student, other, assignment];
    for (const text of [s2.text, h1.text]) {
      for (const value of labelValues(text)) for (const secret of secrets) expect(value).not.toContain(secret);
    }

    // One line per finished grading (2 + 2 regraded) and per delivery given up, with gradeflow's ids only.
    const finished = recorded();
    expect(finished).toHaveLength(4);
    expect(finished.find((l) => l.submissionId === ids[1] && l.attempt === 1)).toMatchObject({
      platform: 'test',
      flavour: 'default',
      outcome: 'failure',
      reason: 'time_limit_exceeded',
      origin: 'student',
      host: stack.hostId,
      durationSeconds: expect.any(Number),
      queueWaitSeconds: expect.any(Number),
    });
    const ended = lines.filter((l) => l.event === 'delivery_ended' && l.submissionId === ids[1] && l.attempt === 1);
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ result: 'given_up', attempt: 1 });
    expect(String(ended[0]!.error)).not.toContain('/gone');
    const logged = JSON.stringify(lines);
    for (const secret of [student, other, ok.work_id, slow.work_id]) expect(logged).not.toContain(secret);
  });

  it('is served on a port of its own with metrics.port, and not on the API port then', async () => {
    const port = await freePort();
    const own = await startStack('metrics-port', { metrics: { port, host: '127.0.0.1', temporalPort: 0 } }, { host: false });
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('# TYPE gradeflow_gradings_total counter');
      expect((await fetch(`${own.server.url}/metrics`)).status).toBe(404);
    } finally {
      await own.stop();
    }
  });
});
