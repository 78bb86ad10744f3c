import { existsSync } from 'node:fs';
import path from 'node:path';

/** The repository (or installed package) root: the nearest directory above this file with a package.json. */
function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..', '..');
  }
}

export const PROJECT_ROOT = findProjectRoot(__dirname);

/** Project-local tools: the Temporal CLI venv, dockerd's config and log. */
export const TOOLS_DIR = process.env.GRADEFLOW_TOOLS_DIR ?? path.join(PROJECT_ROOT, '.tools');

/** Progress lines for people, on stderr so that stdout stays for machine output. */
export function say(message: string): void {
  process.stderr.write(`gradeflow: ${message}\n`);
}
