import { WRITABLE_DIRS } from './container-layout';

/** Paths the results-frame script may read: absolute, plain characters (they are placed in a shell script). */
const SHELL_SAFE_PATH_RE = /^\/[A-Za-z0-9_][A-Za-z0-9_./-]{0,254}$/;

/** Whether a path may be placed in the results-frame script: absolute, plain characters, no `..`. */
export function isShellSafePath(path: string): boolean {
  return SHELL_SAFE_PATH_RE.test(path) && !path.includes('..');
}

/**
 * Why a results file path a platform asked for cannot be read back from the container (undefined when it
 * can): it must be safe in the results-frame script and lie in a directory that is a tmpfs in every
 * file-format container.
 */
export function checkResultsFilePath(path: unknown): string | undefined {
  const dirs = WRITABLE_DIRS.map((d) => `${d}/`);
  if (typeof path !== 'string' || !isShellSafePath(path) || !dirs.some((d) => path.startsWith(d))) {
    return `must be an absolute path under ${dirs.join(' or ')} (letters, digits, "_ . / -")`;
  }
  return undefined;
}
