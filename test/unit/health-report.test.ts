import type { Worker } from '@temporalio/worker';
import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { ContainerSlots } from '../../src/activities/docker/container-slots';
import { healthReport } from '../../src/workers/health-server';

/** The health report of a grading host, from its workers' states, its Docker engine and its slots. */

const worker = (state: string) => ({ getState: () => state }) as unknown as Worker;
const docker = (answer: () => Promise<unknown>) => ({ version: answer }) as unknown as Dockerode;

describe('healthReport', () => {
  it('is healthy while the engine answers and every worker runs; slots shared by the flavours', async () => {
    const slots = new ContainerSlots(4);
    await slots.acquire('a');
    const report = await healthReport({
      hostId: 'h1',
      docker: docker(async () => ({ Version: '26.1.5' })),
      flavourWorkers: new Map([['default', worker('RUNNING')], ['gvisor', worker('RUNNING')]]),
      hostWorker: worker('RUNNING'),
      slots,
    });
    expect(report).toEqual({
      hostId: 'h1',
      docker: { ok: true, version: '26.1.5' },
      polling: { ok: true, state: 'RUNNING', flavours: { default: 'RUNNING', gvisor: 'RUNNING' } },
      slots: { default: { used: 1, total: 4 }, gvisor: { used: 1, total: 4 } },
      down: [],
    });
  });

  it('names what is down: a worker not running, an engine that does not answer', async () => {
    const report = await healthReport({
      hostId: 'h1',
      docker: docker(() => Promise.reject(new Error('connect ENOENT /run/docker.sock'))),
      flavourWorkers: new Map([['default', worker('STOPPING')]]),
      hostWorker: worker('RUNNING'),
      slots: new ContainerSlots(2),
    });
    expect(report.docker).toEqual({ ok: false, error: 'connect ENOENT /run/docker.sock' });
    expect(report.polling).toMatchObject({ ok: false, state: 'STOPPING' });
    expect(report.down).toEqual([
      'docker: the engine does not answer (connect ENOENT /run/docker.sock)',
      'polling: the worker is not running (STOPPING)',
    ]);
  });
});
