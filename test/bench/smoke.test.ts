import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { readFileSync } from 'node:fs';
import { dockerdPid, splitCores } from '../../bench/placement';
import { formatResult, runBench } from '../../bench/run';

/** The benchmark, tiny, so that it cannot rot: every part runs, nothing is timed. */
describe('benchmark smoke run', () => {
  it('runs both ways on both workloads, checks slots, intake and a burst', async () => {
    const result = await runBench({
      workloads: ['trivial', 'cpu'],
      concurrency: [1, 2],
      items: { trivial: 5, cpu: 2 },
      rounds: 1,
      latencyItems: 2,
      intake: 5,
      burst: 20,
      floor: 5,
      burstStallMs: 120_000,
      clients: 4,
      controlNice: 0,
      splitCores: true,
      temporalAddress: inject('temporalAddress'),
    });
    expect(result.cells).toHaveLength(4);
    for (const cell of result.cells) {
      expect(cell.raw.throughputPerS).toBeGreaterThan(0);
      expect(cell.gradeflow.throughputPerS).toBeGreaterThan(0);
      expect(cell.gradeflow.maxContainers).toBeGreaterThan(0);
      expect(cell.gradeflow.maxContainers).toBeLessThanOrEqual(cell.concurrency);
      expect(Object.keys(cell.cpuSecondsPerSubmission)).toEqual(expect.arrayContaining(['api', 'worker']));
    }
    expect(result.latency?.gradeflow.p50Ms).toBeGreaterThan(0);
    expect(result.intake).toMatchObject({ posts: 5, accepted: 5 });
    expect(result.intakeUnderLoad).toMatchObject({ posts: 5, accepted: 5 });
    expect(result.burst).toMatchObject({ posts: 20, accepted: 20, delivered: 20, lost: 0, duplicated: 0 });
    expect(result.floor).toMatchObject({ workflows: 5 });
    expect(result.floor!.cpuSecondsPerWorkflow.sdk).toBeGreaterThan(0);
    expect(result.peakRssMb.worker).toBeGreaterThan(0);
    expect(formatResult(result)).toContain('targets:');
    expect(formatResult(result)).toContain('on CPU 0');
    // --split-cores gives dockerd its CPUs back when it ends.
    expect(readFileSync(`/proc/${dockerdPid()}/status`, 'utf8')).toMatch(new RegExp(`Cpus_allowed_list:\\s*${splitCores().all}\\n`));
  }, 600_000);
});
