import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { PROJECT_ROOT } from '../src/setup/paths';
import { formatClusterResult } from './cluster/format';
import { CLUSTER_DEFAULTS, runClusterBench } from './cluster/run-cluster';
import { formatRegradeResult, REGRADE_DEFAULTS, runRegradeBench } from './regrade';
import { DEFAULT_OPTIONS, formatResult, runBench, type Workload } from './run';

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

const program = new Command()
  .name('npm run bench --')
  .description('gradeflow against raw dockerode on the same work, interleaved, in one run')
  .option('--topology <name>', 'dev (one worker, the dev server) or cluster (`gradeflow cluster`: real Temporal, PostgreSQL, 1 and 2 grading hosts)', 'dev')
  .option('--slots <n>', 'cluster: container slots per grading host; --regrade: the grading host\'s slots (default 2)', String(CLUSTER_DEFAULTS.slots))
  .option('--servers <n>', 'cluster: gradeflow servers', String(CLUSTER_DEFAULTS.servers))
  .option('--idle <seconds>', 'cluster: seconds of the idle cluster measured as the background (0 to skip)', String(CLUSTER_DEFAULTS.idleSeconds))
  .option('--workload <names>', 'trivial,cpu', 'trivial,cpu')
  .option('--concurrency <list>', 'container slots to measure, e.g. 1,2,4', '1,2,4')
  .option('--items <n>', 'items per cell (default: 200 trivial, 40 cpu; cluster: 100 and 20 per topology and way)')
  .option('--rounds <n>', 'alternating raw/gradeflow rounds per cell', String(DEFAULT_OPTIONS.rounds))
  .option('--latency-items <n>', 'one-at-a-time gradings for latency and overhead (0 to skip)', String(DEFAULT_OPTIONS.latencyItems))
  .option('--intake <n>', 'POSTs for the intake measurement (0 to skip)', String(DEFAULT_OPTIONS.intake))
  .option('--burst <n>', 'submissions in the burst (0 to skip)', String(DEFAULT_OPTIONS.burst))
  .option('--announce <n>', 'gradings per round of the containerStarted signal off/on comparison, on the largest --concurrency (0 to skip)', '0')
  .option('--floor <n>', 'workflows for the Temporal floor measurement (0 to skip)', String(DEFAULT_OPTIONS.floor))
  .option('--burst-stall <seconds>', 'stop waiting for the burst after this long without a callback', String(DEFAULT_OPTIONS.burstStallMs / 1000))
  .option('--clients <n>', 'concurrent API clients for intake and burst', String(DEFAULT_OPTIONS.clients))
  .option('--control-nice <n>', 'nice value of API, Temporal and PostgreSQL (0: same priority as grading)', String(DEFAULT_OPTIONS.controlNice))
  .option('--split-cores', 'control plane (and this client) on CPU 0, grading host, dockerd and containers on the other CPUs')
  .option('--regrade <n>', 'instead: an assignment regrade of n submissions against n raw gradings, and live submissions during it (bench/regrade.ts)')
  .option('--live <n>', 'regrade: live submissions of another course timed while it runs', String(REGRADE_DEFAULTS.live))
  .option('--out <file>', 'where to write the JSON result (default: bench/results/latest.json; cluster: cluster.json)')
  .parse();

const o = program.opts<Record<string, string | boolean>>() as Record<string, string> & { splitCores?: boolean };
if (o.topology !== 'dev' && o.topology !== 'cluster') {
  process.stderr.write(`--topology must be dev or cluster, got "${o.topology}"\n`);
  process.exit(2);
}
o.out ??= path.join(PROJECT_ROOT, 'bench', 'results', o.regrade ? `regrade-${o.regrade}.json` : o.topology === 'cluster' ? 'cluster.json' : 'latest.json');
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).stdout?.trim();

function write(result: object): void {
  mkdirSync(path.dirname(o.out!), { recursive: true });
  writeFileSync(o.out!, `${JSON.stringify({ ...result, ...(commit ? { commit } : {}) }, null, 2)}\n`);
}
const items = o.items ? Number(o.items) : undefined;

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const done = <T extends object>(format: (r: T) => string) => [
  (result: T) => {
    write(result);
    process.stdout.write(`${format(result)}\n\nwritten to ${o.out}\n`);
  },
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
] as const;

if (o.regrade) {
  void runRegradeBench({
    submissions: Number(o.regrade),
    slots: program.getOptionValueSource('slots') === 'cli' ? Number(o.slots) : REGRADE_DEFAULTS.slots,
    live: Number(o.live),
    single: REGRADE_DEFAULTS.single,
    log,
  }).then(...done(formatRegradeResult));
} else if (o.topology === 'cluster') {
  // Unless given, rounds, latency items and floor take the cluster's defaults; the dev-only options are not read.
  const explicit = (name: string) => program.getOptionValueSource(name) === 'cli';
  void runClusterBench({
    workloads: list(o.workload!) as Workload[],
    items: { trivial: items ?? CLUSTER_DEFAULTS.items.trivial, cpu: items ?? CLUSTER_DEFAULTS.items.cpu },
    rounds: explicit('rounds') ? Number(o.rounds) : CLUSTER_DEFAULTS.rounds,
    latencyItems: explicit('latencyItems') ? Number(o.latencyItems) : CLUSTER_DEFAULTS.latencyItems,
    floor: explicit('floor') ? Number(o.floor) : CLUSTER_DEFAULTS.floor,
    idleSeconds: Number(o.idle),
    slots: Number(o.slots),
    servers: Number(o.servers),
    log,
    onPartial: (partial) => write({ ...partial, partial: true }),
  }).then(...done(formatClusterResult));
} else {
  void runBench({
    workloads: list(o.workload!) as Workload[],
    concurrency: list(o.concurrency!).map(Number),
    items: { trivial: items ?? DEFAULT_OPTIONS.items.trivial, cpu: items ?? DEFAULT_OPTIONS.items.cpu },
    rounds: Number(o.rounds),
    latencyItems: Number(o.latencyItems),
    intake: Number(o.intake),
    burst: Number(o.burst),
    floor: Number(o.floor),
    announce: Number(o.announce),
    burstStallMs: Number(o.burstStall) * 1000,
    clients: Number(o.clients),
    controlNice: Number(o.controlNice),
    splitCores: Boolean(o.splitCores),
    log,
    onPartial: (partial) => write({ ...partial, partial: true }),
  }).then(...done(formatResult));
}
