import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { PROJECT_ROOT } from '../src/setup/paths';
import { DEFAULT_OPTIONS, formatResult, runBench, type Workload } from './run';

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

const program = new Command()
  .name('npm run bench --')
  .description('gradeflow against raw dockerode on the same work, interleaved, in one run')
  .option('--workload <names>', 'trivial,cpu', 'trivial,cpu')
  .option('--concurrency <list>', 'container slots to measure, e.g. 1,2,4', '1,2,4')
  .option('--items <n>', 'items per cell (default: 200 trivial, 40 cpu)')
  .option('--rounds <n>', 'alternating raw/gradeflow rounds per cell', String(DEFAULT_OPTIONS.rounds))
  .option('--latency-items <n>', 'one-at-a-time gradings for latency and overhead (0 to skip)', String(DEFAULT_OPTIONS.latencyItems))
  .option('--intake <n>', 'POSTs for the intake measurement (0 to skip)', String(DEFAULT_OPTIONS.intake))
  .option('--burst <n>', 'submissions in the burst (0 to skip)', String(DEFAULT_OPTIONS.burst))
  .option('--floor <n>', 'workflows for the Temporal floor measurement (0 to skip)', String(DEFAULT_OPTIONS.floor))
  .option('--burst-stall <seconds>', 'stop waiting for the burst after this long without a callback', String(DEFAULT_OPTIONS.burstStallMs / 1000))
  .option('--clients <n>', 'concurrent API clients for intake and burst', String(DEFAULT_OPTIONS.clients))
  .option('--control-nice <n>', 'nice value of API, Temporal and PostgreSQL (0: same priority as grading)', String(DEFAULT_OPTIONS.controlNice))
  .option('--split-cores', 'control plane (and this client) on CPU 0, grading host, dockerd and containers on the other CPUs')
  .option('--out <file>', 'where to write the JSON result', path.join(PROJECT_ROOT, 'bench', 'results', 'latest.json'))
  .parse();

const o = program.opts<Record<string, string>>();
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).stdout?.trim();

function write(result: object): void {
  mkdirSync(path.dirname(o.out!), { recursive: true });
  writeFileSync(o.out!, `${JSON.stringify({ ...result, ...(commit ? { commit } : {}) }, null, 2)}\n`);
}
const items = o.items ? Number(o.items) : undefined;

runBench({
  workloads: list(o.workload!) as Workload[],
  concurrency: list(o.concurrency!).map(Number),
  items: { trivial: items ?? DEFAULT_OPTIONS.items.trivial, cpu: items ?? DEFAULT_OPTIONS.items.cpu },
  rounds: Number(o.rounds),
  latencyItems: Number(o.latencyItems),
  intake: Number(o.intake),
  burst: Number(o.burst),
  floor: Number(o.floor),
  burstStallMs: Number(o.burstStall) * 1000,
  clients: Number(o.clients),
  controlNice: Number(o.controlNice),
  splitCores: Boolean(o.splitCores),
  log: (line) => process.stderr.write(`bench: ${line}\n`),
  onPartial: (partial) => write({ ...partial, partial: true }),
}).then(
  (result) => {
    write(result);
    process.stdout.write(`${formatResult(result)}\n\nwritten to ${o.out}\n`);
  },
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
