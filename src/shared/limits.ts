import type { ResourceLimits } from './types';

/** Every resource limit, by its name in the config and the workflow input. */
const LIMIT_KEYS = ['cpus', 'memoryMb', 'pids', 'timeLimitSeconds', 'outputLimitBytes', 'tmpfsMb'] as const satisfies ReadonlyArray<
  keyof ResourceLimits
>;
// Compile-time: a limit added to ResourceLimits must be listed here too.
const allListed: [Exclude<keyof ResourceLimits, (typeof LIMIT_KEYS)[number]>] extends [never] ? true : never = true;
void allListed;

/** The limits an attempt runs under: the flavour's as configured now, tightened by the submission's. */
export function effectiveLimits(flavour: ResourceLimits, own: Partial<ResourceLimits>): ResourceLimits {
  const limits = {} as ResourceLimits;
  for (const key of LIMIT_KEYS) {
    const v = own[key];
    limits[key] = v !== undefined ? Math.min(flavour[key], v) : flavour[key];
  }
  return limits;
}
