import { Command } from 'commander';
import { runCluster, runClusterRestart, type ClusterCliOptions } from './cluster';
import { runDev } from './dev';
import { runServer, runWorker } from './processes';
import { runPrune, type PruneCliOptions } from './prune';
import { runRegrade, type RegradeCliOptions } from './regrade';
import { writeSchemas } from './schemas';
import { runStudentHash } from './student-hash';
import { runSetup } from './setup';
import { runTry, type TryCliOptions } from './try';

function fail(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`gradeflow: ${message}\n`);
  process.exit(1);
}

const program = new Command()
  .name('gradeflow')
  .description('Durable autograding on Temporal and Docker')
  .showHelpAfterError()
  .enablePositionalOptions();

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

const cluster = program
  .command('cluster')
  .description(
    'the production layout on this machine: PostgreSQL, Temporal, Docker daemons each with a grading host, ' +
      'and API servers, each its own process, supervised (see docs/operations.md)',
  )
  .enablePositionalOptions()
  .option('--hosts <n>', 'Docker daemons, each with a `gradeflow worker`', '2')
  .option('--servers <m>', '`gradeflow server`s sharing one database', '2')
  .option('--dir <dir>', 'where the cluster keeps its data, sockets and logs (default: <dataDir>/cluster)')
  .option('--state <file>', 'JSON state file written once everything is healthy (default: <dir>/state.json)')
  .option('--api-port <port>', "first server's port, the others follow (default: api.port; 0: free ports)")
  .option('--temporal-port <port>', "Temporal's port (default: temporal.port; 0: a free port)")
  .option('--postgres-port <port>', "PostgreSQL's port (0: a free port)", '5432')
  .option('--registry-port <port>', "the registry's port on 127.0.0.1, as image references name it (0: a free port)", '5000')
  .action((opts: ClusterCliOptions) => runCluster(opts).catch(fail));

cluster
  .command('restart <role> [index]')
  .description('start a part of the running cluster again (role: postgres, temporal, registry, server, host/worker, dockerd; index from 1)')
  .option('--dir <dir>', 'the running cluster\'s --dir (default: <dataDir>/cluster)')
  .action((role: string, index: string | undefined, opts: { dir?: string }) => runClusterRestart(role, index, opts).catch(fail));

program
  .command('try')
  .description('grade one submission on this machine’s Docker engine exactly as a grading host would (no Temporal, no database); exit code 0 when it is graded')
  .requiredOption('--image <image>', 'the grader image')
  .option('--file <path>', 'the submission; repeat for several files (sent as one tar, like an archive)', (v: string, all: string[]) => [...all, v], [] as string[])
  .option('--format <format>', 'auto, correctomatic, gitlab, gradescope, junit or tap', 'auto')
  .option('--flavour <flavour>', "the flavour whose limits and isolation apply (this configuration's)", 'default')
  .option('--params <params>', 'the grader\'s params: a JSON object of strings or "k1=v1,k2=v2", as the API takes them')
  .option('--max-grade <n>', "the assignment's max grade")
  .option('--results-file <path>', "JUnit: where the grader writes its XML")
  .option('--json', 'print {spec, result, callback_body} as JSON')
  .action((opts: TryCliOptions) =>
    runTry(opts).then((code) => process.exit(code), fail),
  );

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
  .command('regrade')
  .description('regrade an assignment through the API: a live progress bar, then a summary (regraded, changed grade, failed)')
  .requiredOption('--assignment <id>', 'the assignment to regrade')
  .requiredOption('--api <url>', "gradeflow's API, e.g. http://127.0.0.1:8080")
  .requiredOption('--api-key <key>', "the platform's API key")
  .option('--image <image>', 'regrade with this grader image (allowed and pinned as at intake)')
  .option('--scope <scope>', 'latest (each student\'s newest submission) or all', 'latest')
  .option('--student <id...>', 'only these students')
  .option('--reason <text>', 'why (kept with the regrade)')
  .option('--update-assignment', "also make --image the assignment's image for new submissions")
  .option('--interval <ms>', 'how often progress is read', '1000')
  .action((opts: RegradeCliOptions) => runRegrade(opts).catch(fail));

program
  .command('prune')
  .description('remove the stored files and output excerpts of submissions finished long ago (results and grades are kept); safe while servers run')
  .option('--older-than <duration>', 'finished longer ago than this, e.g. 30d, 12h, 2w (units m, h, d, w); at least 1h (default: retention.filesDays days)')
  .option('--batch <n>', 'submissions per transaction', '500')
  .action((opts: PruneCliOptions) => runPrune(opts).catch(fail));

program
  .command('schemas')
  .description('write the JSON Schemas generated from the code into schemas/ (after changing a result type)')
  .action(() => writeSchemas());

program
  .command('student-hash <platform> <student_id>')
  .description("print the value the Temporal UI's GradeflowStudent search attribute holds for a student (a keyed hash by default), and the query that finds their gradings")
  .option('--json', 'print {platform, student_hash, query} as JSON')
  .action((platform: string, studentId: string, opts: { json?: boolean }) => {
    try {
      runStudentHash(platform, studentId, opts);
    } catch (err) {
      fail(err);
    }
  });

program.parseAsync(process.argv).catch(fail);
