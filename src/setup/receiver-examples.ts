import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, say, TOOLS_DIR } from './paths';
import { aptInstall, isRoot, run, which } from './run';

const RECEIVERS_DIR = path.join(PROJECT_ROOT, 'examples', 'receivers');

/** What the receiver examples (examples/receivers/) run with: a Python with their pinned packages, and PHP's CLI. */
export interface ReceiverRuntimes {
  python: string;
  php: string;
}

/**
 * The runtimes of the receiver examples, installed once as `gradeflow setup --for test` installs the rest:
 * a venv in `.tools/receivers-venv` with examples/receivers/python/requirements.txt (pinned; reinstalled
 * when the file changes), and Debian's php-cli when `php` is not on PATH.
 */
export async function ensureReceiverRuntimes(): Promise<ReceiverRuntimes> {
  return { python: await ensurePythonVenv(), php: await ensurePhp() };
}

async function ensurePythonVenv(): Promise<string> {
  const requirements = path.join(RECEIVERS_DIR, 'python', 'requirements.txt');
  const wanted = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  const venv = path.join(TOOLS_DIR, 'receivers-venv');
  const python = path.join(venv, 'bin', 'python3');
  const stamp = path.join(venv, 'requirements.sha256');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return python;
  const system = which('python3');
  if (!system) throw new Error('the Python receiver example needs python3 (3.8 or later)');
  say(`installing the Python receiver's packages (${requirements}) into ${venv}…`);
  await run(system, ['-m', 'venv', venv], { quiet: true });
  await run(path.join(venv, 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', '-r', requirements], { quiet: true });
  writeFileSync(stamp, wanted);
  return python;
}

async function ensurePhp(): Promise<string> {
  const found = which('php');
  if (found) return found;
  if (!isRoot() || !existsSync('/etc/debian_version')) throw new Error('the PHP receiver example needs php (the CLI, 8.0 or later); install it');
  say('installing PHP (php-cli) from Debian for the PHP receiver example (once)…');
  await aptInstall(['php-cli']);
  const php = which('php');
  if (!php) throw new Error('php-cli installed but php is not on PATH');
  return php;
}
