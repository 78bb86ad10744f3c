import { existsSync } from 'node:fs';
import { ensureChromium } from '../setup/chromium';
import { ensureDocker } from '../setup/docker';
import { ensureImages } from '../setup/images';
import { say } from '../setup/paths';
import { postgresBinDir } from '../setup/postgres';
import { ensureReceiverRuntimes } from '../setup/receiver-examples';
import { aptInstall, isRoot } from '../setup/run';
import { ensureTemporalCli } from '../setup/temporal-cli';
import { ensureTemporalServer } from '../setup/temporal-server';

/**
 * `gradeflow setup`: what `dev` and the test suite need, installed and started once. `cluster` builds the
 * real Temporal server (and its SQL tool) from source, as the test suite also needs.
 */
export async function runSetup(purpose: string): Promise<void> {
  if (purpose !== 'dev' && purpose !== 'test' && purpose !== 'cluster') throw new Error('--for must be "dev", "test" or "cluster"');
  if (purpose === 'cluster') {
    say(`Temporal CLI: ${await ensureTemporalCli()}`);
    const server = await ensureTemporalServer();
    say(`Temporal server: ${server.server}`);
    say(`SQL tool: ${server.sqlTool}`);
    say(`PostgreSQL schemas: ${server.schemaDir}`);
    say('set-up complete');
    return;
  }
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
  if (purpose === 'test') {
    const server = await ensureTemporalServer();
    say(`Temporal server: ${server.server}`);
    say(`Chromium (Temporal UI screenshots): ${await ensureChromium()}`);
    const receivers = await ensureReceiverRuntimes();
    say(`receiver examples: ${receivers.python}, ${receivers.php}`);
  }
  say('set-up complete');
}
