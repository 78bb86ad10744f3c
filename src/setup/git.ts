import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { aptInstall, isRoot, which } from './run';

function httpBackendPath(): string | undefined {
  if (!which('git')) return undefined;
  const r = spawnSync('git', ['--exec-path'], { encoding: 'utf8' });
  const backend = path.join(r.stdout.trim(), 'git-http-backend');
  return r.status === 0 && existsSync(backend) ? backend : undefined;
}

/**
 * Debian's `git` (with `git http-backend`, git's smart HTTP server, which the push-hook tests serve
 * repositories with): installed when missing, as root on Debian; elsewhere an error says what to install.
 * Returns the path of `git-http-backend`.
 */
export async function ensureGit(): Promise<string> {
  const found = httpBackendPath();
  if (found) return found;
  if (!isRoot() || !which('apt-get')) throw new Error('git (with git-http-backend) is required: install Debian\'s "git" package');
  process.stderr.write('gradeflow setup: installing Debian\'s git…\n');
  await aptInstall(['git']);
  const installed = httpBackendPath();
  if (!installed) throw new Error('git was installed but git-http-backend is missing');
  return installed;
}
