import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ContainerSlots } from '../activities/docker/container-slots';

/**
 * gradeflow's own metrics of a grading host process (`gradeflow worker`), served on its health port:
 * container slots and image pulls. Labels: the host's id and bounded results; never an image digest of
 * a submission, a submission or a student id.
 */
export const hostRegistry = new Registry();
collectDefaultMetrics({ register: hostRegistry });

export const imagePulls = new Counter({
  name: 'gradeflow_image_pulls_total',
  help: 'Image pulls from a registry by this host, by result (pulled|failed); an image already present under if-missing is not a pull',
  labelNames: ['result'] as const,
  registers: [hostRegistry],
});

const hosts = new Map<string, ContainerSlots>();

/** Report this host's container slots (read at each scrape) until the answer is called; a process may run several hosts (tests). */
export function watchSlots(hostId: string, slots: ContainerSlots): () => void {
  hosts.set(hostId, slots);
  return () => {
    if (hosts.get(hostId) === slots) hosts.delete(hostId);
  };
}

new Gauge({
  name: 'gradeflow_container_slots_in_use',
  help: 'Grading containers alive on this host now (slots taken)',
  labelNames: ['host'] as const,
  registers: [hostRegistry],
  collect() {
    this.reset();
    for (const [host, slots] of hosts) this.set({ host }, slots.inUse);
  },
});

new Gauge({
  name: 'gradeflow_container_slots',
  help: 'Grading containers this host may run at once (worker.slots)',
  labelNames: ['host'] as const,
  registers: [hostRegistry],
  collect() {
    this.reset();
    for (const [host, slots] of hosts) this.set({ host }, slots.capacity);
  },
});
