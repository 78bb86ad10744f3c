import type { FlavourConfig } from '../config/schema';
import type { ResourceLimits } from '../shared/types';
import { invalid } from './errors';
import { isAbsent, isPlainObject } from './fields';
import { Problems } from './problems';

/** The API's snake_case names for the limits a submission may tighten, with each one's smallest value. */
const FIELDS: ReadonlyArray<{ api: string; key: keyof ResourceLimits; min: number; integer: boolean }> = [
  { api: 'cpus', key: 'cpus', min: 0.01, integer: false },
  { api: 'memory_mb', key: 'memoryMb', min: 16, integer: true },
  { api: 'pids', key: 'pids', min: 8, integer: true },
  { api: 'time_limit_seconds', key: 'timeLimitSeconds', min: 0.1, integer: false },
  { api: 'output_limit_bytes', key: 'outputLimitBytes', min: 1024, integer: true },
  { api: 'tmpfs_mb', key: 'tmpfsMb', min: 1, integer: true },
];

/**
 * A submission's own `limits`: an object (or, in a multipart form, its JSON) whose values may only
 * tighten the flavour's limits, never loosen them.
 */
export function parseSubmissionLimits(value: unknown, flavour: FlavourConfig): Partial<ResourceLimits> {
  if (isAbsent(value)) return {};
  let obj = value;
  if (typeof value === 'string') {
    try {
      obj = JSON.parse(value);
    } catch {
      throw invalid('limits', 'must be an object (JSON in a form field)');
    }
  }
  if (!isPlainObject(obj)) throw invalid('limits', 'must be an object');
  const known = new Set(FIELDS.map((f) => f.api));
  const problems = new Problems();
  for (const key of Object.keys(obj)) {
    if (!known.has(key)) problems.record(invalid(`limits.${key}`, `is not a limit; use ${[...known].join(', ')}`));
  }
  const out: Partial<ResourceLimits> = {};
  for (const f of FIELDS) {
    const v = (obj as Record<string, unknown>)[f.api];
    if (v === undefined) continue;
    const field = `limits.${f.api}`;
    const limit = problems.check(field, () => checkLimit(v, f, field, flavour[f.key]));
    if (limit !== undefined) out[f.key] = limit;
  }
  problems.throwIfAny();
  return out;
}

function checkLimit(v: unknown, f: (typeof FIELDS)[number], field: string, flavourLimit: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (f.integer && !Number.isInteger(v))) {
    throw invalid(field, `must be ${f.integer ? 'an integer' : 'a number'}`);
  }
  if (v < f.min) throw invalid(field, `must be at least ${f.min}`);
  if (v > flavourLimit) throw invalid(field, `may only tighten the flavour's limit of ${flavourLimit}, not loosen it`);
  return v;
}
