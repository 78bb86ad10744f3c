import { Command } from 'commander';
import { runDev } from './dev';
import { runServer, runWorker } from './processes';
import { writeSchemas } from './schemas';
import { runSetup } from './setup';

function fail(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`gradeflow: ${message}\n`);
  process.exit(1);
}

const program = new Command()
  .name('gradeflow')
  .description('Durable autograding on Temporal and Docker')
  .showHelpAfterError();

program
  .command('dev')
  .description('everything in one process: embedded Temporal dev server, API, control worker and a grading host')
  .action(() => runDev().catch(fail));

program
  .command('server')
  .description('the API and the control worker (workflows, database, callbacks)')
  .action(() => runServer().catch(fail));

program
  .command('worker')
  .description('a grading host: runs grading containers on this machine’s Docker engine')
  .action(() => runWorker().catch(fail));

program
  .command('setup')
  .description('install and start what is missing (Docker engine, Temporal CLI, base images), then exit')
  .option(
    '--for <purpose>',
    'dev, test (also PostgreSQL server binaries and the Temporal server) or cluster (builds the Temporal server and SQL tool)',
    'dev',
  )
  .action((opts: { for: string }) => runSetup(opts.for).catch(fail));

program
  .command('schemas')
  .description('write the JSON Schemas generated from the code into schemas/ (after changing a result type)')
  .action(() => writeSchemas());

program.parseAsync(process.argv).catch(fail);
