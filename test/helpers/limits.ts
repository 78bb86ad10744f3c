import type { FlavourConfig } from '../../src/config/schema';

/** Flavour limits of the test stacks and the bench, each written once. */

/** The in-process stack's default flavour (test/helpers/stack.ts), also the result-formats test's. */
export const STACK_LIMITS = { cpus: 1, memoryMb: 128, pids: 64, timeLimitSeconds: 20, outputLimitBytes: 1048576, tmpfsMb: 16, allowRoot: false, switchUser: false, pullPolicy: 'if-missing' as const };

/** Hostile submissions: a short time limit and a small output limit, both of which they test. */
export const HOSTILE_LIMITS = { cpus: 1, memoryMb: 128, pids: 64, timeLimitSeconds: 4, outputLimitBytes: 256 * 1024, tmpfsMb: 16, allowRoot: false, switchUser: false, pullPolicy: 'if-missing' as const };

/** The forgery test's example graders (Python among them): more memory and time. */
export const FORGERY_LIMITS = { cpus: 1, memoryMb: 256, pids: 64, timeLimitSeconds: 30, outputLimitBytes: 1048576, tmpfsMb: 16, allowRoot: false, switchUser: false, pullPolicy: 'if-missing' as const };

/** The bench's gradings, gradeflow's and raw dockerode's alike. */
export const BENCH_LIMITS = { cpus: 1, memoryMb: 256, pids: 64, timeLimitSeconds: 120, outputLimitBytes: 1048576, tmpfsMb: 16, allowRoot: false, switchUser: false, pullPolicy: 'if-missing' as const };

/** `flavours` with these limits under runc (`default`) and gVisor (`gvisor`). */
export function runcAndGvisor(limits: FlavourConfig): Record<string, FlavourConfig> {
  return { default: { ...limits }, gvisor: { ...limits, runtime: 'runsc' } };
}
