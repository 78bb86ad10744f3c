import picomatch from 'picomatch';

/** At most this many repository or branch patterns per assignment. */
export const MAX_PATTERNS = 50;
const PATTERN_RE = /^[A-Za-z0-9_.\-/*?{},[\]!]{1,200}$/;

/**
 * Why a repository pattern (`course/lab1-*`: a glob on the repository's path with its namespace) is not
 * usable, or undefined. `*` and `?` stay within one path segment, `**` crosses them; GitLab and GitHub
 * compare paths without regard to case, and so do the patterns.
 */
export function repositoryPatternProblem(pattern: string): string | undefined {
  if (!PATTERN_RE.test(pattern)) return 'must be 1 to 200 characters: letters, digits, "_ . - /" and the glob characters "* ? { } , [ ] !"';
  if (!pattern.includes('/')) return 'must include the namespace ("course/lab1-*", or "**/lab1-*" for any namespace)';
  return undefined;
}

/** Why a branch pattern (`main`, `release/*`) is not usable, or undefined. */
export function branchPatternProblem(pattern: string): string | undefined {
  if (!PATTERN_RE.test(pattern) || pattern.startsWith('/') || pattern.endsWith('/')) {
    return 'must be 1 to 200 characters: letters, digits, "_ . - /" and the glob characters "* ? { } , [ ] !"';
  }
  return undefined;
}

/** Whether a repository path (`course/lab1-alice`) matches one of the patterns. */
export function repositoryMatches(patterns: readonly string[], repository: string): boolean {
  return patterns.length > 0 && picomatch(patterns as string[], { nocase: true, dot: true })(repository);
}

/** Whether a branch name (`main`, without `refs/heads/`) matches one of the patterns (case matters). */
export function branchMatches(patterns: readonly string[], branch: string): boolean {
  return patterns.length > 0 && picomatch(patterns as string[], { dot: true })(branch);
}
