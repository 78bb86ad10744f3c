import path from 'node:path';

/** The repository (or installed package) root: src/setup → ../.. ; dist/setup → ../.. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** Project-local tools: the Temporal CLI venv, dockerd's config and log. */
export const TOOLS_DIR = process.env.GRADEFLOW_TOOLS_DIR ?? path.join(PROJECT_ROOT, '.tools');

/** Progress lines for people, on stderr so that stdout stays for machine output. */
export function say(message: string): void {
  process.stderr.write(`gradeflow: ${message}\n`);
}
