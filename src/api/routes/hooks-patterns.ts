import { MAX_PATTERNS } from '../../git/repository-patterns';
import { invalid } from '../errors';

/** A list of 1 to MAX_PATTERNS glob patterns (an assignment's `repositories` or `branches`), each checked. */
export function parsePatternList(value: unknown, field: string, problem: (p: string) => string | undefined): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_PATTERNS) {
    throw invalid(field, `must be a list of 1 to ${MAX_PATTERNS} patterns`);
  }
  return value.map((p: unknown, i) => {
    if (typeof p !== 'string') throw invalid(`${field}[${i}]`, 'must be a string');
    const why = problem(p);
    if (why) throw invalid(`${field}[${i}]`, why);
    return p;
  });
}
