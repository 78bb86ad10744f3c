import { existsSync } from 'node:fs';
import { ensureDocker } from '../setup/docker';
import { ensureImages } from '../setup/images';
import { say } from '../setup/paths';
import { postgresBinDir } from '../setup/postgres';
import { aptInstall, isRoot } from '../setup/run';
import { ensureTemporalCli } from '../setup/temporal-cli';

/** `gradeflow setup`: what `dev` and the test suite need, installed and started once. */
export async function runSetup(purpose: string): Promise<void> {
  if (purpose !== 'dev' && purpose !== 'test') throw new Error('--for must be "dev" or "test"');
  const docker = await ensureDocker();
  await ensureImages(docker);
  const cli = await ensureTemporalCli();
  say(`Temporal CLI: ${cli}`);
  if (purpose === 'test' && !postgresBinDir()) {
    if (!isRoot() || !existsSync('/etc/debian_version')) {
      throw new Error('the store tests need PostgreSQL server binaries (initdb, pg_ctl); install PostgreSQL');
    }
    say('installing PostgreSQL from Debian (once)…');
    await aptInstall(['postgresql']);
  }
  say('set-up complete');
}
