import { describe, expect, it } from 'vitest';
import { formatClusterResult } from '../../bench/cluster/format';
import { runClusterBench } from '../../bench/cluster/run-cluster';

/**
 * `npm run bench -- --topology cluster`, tiny: `gradeflow cluster` (built CLI, real Temporal server on
 * PostgreSQL) with one then two grading hosts, raw Docker on the same daemons, the control plane's CPU,
 * the floor on the same server, the overhead. Every part runs and reports; nothing is timed.
 */
describe('cluster benchmark smoke run', () => {
  it('measures one and two grading hosts, the control plane against the floor, and the overhead', async () => {
    const lines: string[] = [];
    const result = await runClusterBench({
      workloads: ['trivial', 'cpu'],
      items: { trivial: 6, cpu: 2 },
      rounds: 2,
      latencyItems: 2,
      idleSeconds: 3,
      floor: 5,
      slots: 2,
      servers: 2,
      log: (line) => lines.push(line),
    });
    expect(result.cells.map((c) => `${c.workload}/${c.hosts}`)).toEqual(['trivial/1', 'trivial/2', 'cpu/1', 'cpu/2']);
    for (const cell of result.cells) {
      expect(cell.items).toBe(cell.workload === 'trivial' ? 6 : 2);
      expect(cell.raw.throughputPerS).toBeGreaterThan(0);
      expect(cell.gradeflow.throughputPerS).toBeGreaterThan(0);
      expect(cell.ratio).toBeGreaterThan(0);
      // Each grading ran once, on the hosts that were up.
      expect(Object.values(cell.attemptsPerHost).reduce((a, b) => a + b, 0)).toBe(cell.items);
      const hosts = Object.keys(cell.attemptsPerHost);
      if (cell.hosts === 1) expect(hosts).toEqual(['host-1']);
      else for (const h of hosts) expect(['host-1', 'host-2']).toContain(h);
      expect(cell.cpuSecondsPerGrading.controlPlane).toBeGreaterThan(0);
    }
    expect(result.scaleOut.map((s) => s.workload)).toEqual(['trivial', 'cpu']);
    for (const s of result.scaleOut) expect(s.gradeflow * s.raw).toBeGreaterThan(0);
    const cp = result.controlPlane!;
    expect(cp.gradings).toBe(16);
    for (const part of ['servers', 'workers', 'temporal', 'postgres'] as const) expect(cp.cpuSecondsPerGrading[part], part).toBeGreaterThan(0);
    expect(result.idle!.cpuCores.temporal).toBeGreaterThan(0);
    expect(result.idle!.commitsPerS).toBeGreaterThanOrEqual(0);
    expect(cp.marginalCpuSecondsPerGrading!.controlPlane).toBeGreaterThanOrEqual(0);
    expect(typeof result.database!.marginalCommitsPerGrading).toBe('number');
    expect(result.database!.gradings).toBeGreaterThanOrEqual(16);
    expect(result.database!.walBytesPerGrading).toBeGreaterThan(0);
    expect(result.database!.commitsPerGrading).toBeGreaterThan(0);
    expect(Object.keys(result.database!.bytesPerGrading)).toEqual(expect.arrayContaining(['postgres', 'temporal', 'temporal_visibility']));
    expect(result.floor).toMatchObject({ workflows: 5 });
    expect(result.floor!.cpuSecondsPerWorkflow.temporal).toBeGreaterThan(0);
    expect(result.floor!.cpuSecondsPerWorkflow.postgres).toBeGreaterThan(0);
    expect(cp.ratioToFloor).toBeGreaterThan(0);
    expect(result.latency!.gradeflow.p50Ms).toBeGreaterThan(0);
    expect(result.latency!.raw.p50Ms).toBeGreaterThan(0);
    expect(typeof result.latency!.overheadP50Ms).toBe('number');
    expect(result.load.throughput!.coresBusy).toBeGreaterThan(0);
    expect(result.load.run!.seconds).toBeGreaterThan(0);
    const text = formatClusterResult(result);
    for (const part of ['idle cluster', 'less the idle background', 'PostgreSQL per grading', 'scale-out trivial', 'scale-out cpu', 'control plane CPU per grading', 'temporal floor on the same server', 'overhead p50']) {
      expect(text).toContain(part);
    }
    expect(lines.join('\n')).toContain('1 grading host up');
  }, 600_000);
});
