import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/setup/free-port';
import { PROJECT_ROOT } from '../../src/setup/paths';
import { postgresBinDir, startTempPostgres, type TempPostgres } from '../../src/setup/postgres';
import { ensureTemporalCli } from '../../src/setup/temporal-cli';
import { startDevServer, type DevServer } from '../../src/setup/temporal-dev-server';
import { BENCH_LIMITS } from './limits';
import { backoffSchedule } from './retry-schedule';

const BIN = path.join(PROJECT_ROOT, 'bin', 'gradeflow.js');

export interface ProcessStack {
  apiUrl: string;
  apiKey: string;
  secret: string;
  hostId: string;
  temporalAddress: string;
  /** PIDs of gradeflow's own processes, by role. */
  pids(): Record<string, number>;
  /** (Re)start the grading host with this many slots (`announceContainerStart`: the worker setting, default on). */
  startWorker(slots: number, opts?: { announceContainerStart?: boolean }): Promise<void>;
  /** Freeze (SIGSTOP) or thaw (SIGCONT) the grading host, e.g. to measure the API as if grading ran elsewhere. */
  pauseWorker(paused: boolean): void;
  stop(): Promise<void>;
}

function waitForLine(child: ChildProcess, logFile: string, text: string, what: string, log: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const check = setInterval(() => {
      if (log().includes(text)) {
        clearInterval(check);
        resolve();
      } else if (child.exitCode !== null || Date.now() > deadline) {
        clearInterval(check);
        reject(new Error(`${what} did not start; see ${logFile}\n${log().slice(-2000)}`));
      }
    }, 100);
  });
}

/** Where the bench puts the processes on the machine's cores (`bench/placement.ts`); the tests leave them be. */
export interface ProcessPlacement {
  /** Once the control plane runs: the PIDs of the server, and of the Temporal dev server and PostgreSQL started here. */
  controlPlane(pids: number[]): void;
  /** Each time a grading host has started. */
  worker(pid: number): void;
}

export interface ProcessStackOptions {
  /** A Temporal server to use; else a dev server of the stack's own. */
  temporalAddress?: string;
  logLevel?: string;
  placement?: ProcessPlacement;
}

/**
 * gradeflow as it runs in production, one OS process per role so that each one's CPU and memory can be
 * measured, and each one can be frozen: a Temporal dev server (or the one given), PostgreSQL (when its
 * binaries are installed; else the server's embedded PGlite), `gradeflow server` and `gradeflow worker`,
 * with one platform, `bench`, that may run the bench's runner image (`gradeflow-bench/*`). For the bench
 * and for the tests that need processes (test/e2e/stalls.test.ts).
 */
export async function startProcessStack(opts: ProcessStackOptions = {}): Promise<ProcessStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-bench-'));
  const children: ChildProcess[] = [];
  let devServer: DevServer | undefined;
  let postgres: TempPostgres | undefined;
  let worker: ChildProcess | undefined;
  const stopAll = async (): Promise<void> => {
    for (const c of [worker, ...children].reverse()) {
      if (c && c.exitCode === null) {
        c.kill('SIGTERM');
        await new Promise((r) => c.once('exit', r));
      }
    }
    await postgres?.stop();
    await devServer?.stop();
    // BENCH_LOGS=<dir>: keep the processes' logs (e.g. to read what the stall watch did in a burst).
    if (process.env.BENCH_LOGS) {
      mkdirSync(process.env.BENCH_LOGS, { recursive: true });
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.log'))) copyFileSync(path.join(dir, f), path.join(process.env.BENCH_LOGS, f));
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    let temporalAddress = opts.temporalAddress;
    if (!temporalAddress) {
      devServer = await startDevServer({
        cli: await ensureTemporalCli(),
        port: await freePort(),
        uiPort: await freePort(),
        namespace: 'default',
        logFile: path.join(dir, 'temporal.log'),
        headless: true,
      });
      temporalAddress = devServer.address;
    }
    if (postgresBinDir()) postgres = await startTempPostgres(await freePort());

    const apiKey = `bench-${randomBytes(16).toString('hex')}`;
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const hostId = `bench-${randomBytes(3).toString('hex')}`;
    const apiPort = await freePort();
    const configFile = path.join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        workerToken: randomBytes(24).toString('hex'),
        flavours: { default: BENCH_LIMITS },
        platforms: [{ id: 'bench', apiKeys: [apiKey], callbackSecret: secret, allowLoopbackCallbacks: true, images: ['gradeflow-bench/*'] }],
        api: { maxFileBytes: 1048576 },
        callbacks: { initialIntervalMs: 200, maximumIntervalMs: 2000, retrySchedule: backoffSchedule(200, 2000, 600_000) },
      }),
    );
    const env = {
      PATH: process.env.PATH,
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
      GRADEFLOW_CONFIG: configFile,
      GRADEFLOW_DATA_DIR: dir,
      GRADEFLOW_LOG_LEVEL: opts.logLevel ?? 'warn',
      GRADEFLOW_API_PORT: String(apiPort),
      GRADEFLOW_TASK_QUEUE_PREFIX: `bench-${hostId}`,
      GRADEFLOW_HOST_ID: hostId,
      TEMPORAL_ADDRESS: temporalAddress,
      ...(postgres ? { DATABASE_URL: postgres.url } : {}),
    };
    const launch = async (role: 'server' | 'worker', extra: Record<string, string>, ready: string): Promise<ChildProcess> => {
      const logFile = path.join(dir, `${role}.log`);
      const out = openSync(logFile, 'a');
      // BENCH_PROFILE=<dir>: V8 CPU profiles of the server and the worker, written there when they stop.
      const profile = process.env.BENCH_PROFILE ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
      // BENCH_NODE_FLAGS: more Node flags for the server and the worker (e.g. "--trace-gc", GC settings).
      const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
      const child = spawn(process.execPath, [...profile, ...flags, BIN, role], { env: { ...env, ...extra }, stdio: ['ignore', out, out] });
      await waitForLine(child, logFile, ready, `gradeflow ${role}`, () => readFileSync(logFile, 'utf8'));
      return child;
    };
    // The readiness lines are logged at info; the processes log at warn otherwise.
    children.push(await launch('server', { GRADEFLOW_LOG_LEVEL: 'info' }, 'gradeflow server listening'));
    opts.placement?.controlPlane([children[0]!.pid!, devServer?.pid, postgres?.pid].filter((pid): pid is number => pid !== undefined));

    return {
      apiUrl: `http://127.0.0.1:${apiPort}`,
      apiKey,
      secret,
      hostId,
      temporalAddress,
      pids() {
        return {
          api: children[0]!.pid!,
          ...(worker?.pid ? { worker: worker.pid } : {}),
          ...(devServer ? { temporal: devServer.pid } : {}),
          ...(postgres ? { database: postgres.pid } : {}),
        };
      },
      async startWorker(slots: number, workerOpts: { announceContainerStart?: boolean } = {}) {
        if (worker && worker.exitCode === null) {
          worker.kill('SIGTERM');
          await new Promise((r) => worker!.once('exit', r));
        }
        // The bench's A/B of the containerStarted signal: the worker reads a copy of the config with it off.
        const extra: Record<string, string> = {};
        if (workerOpts.announceContainerStart === false) {
          const off = path.join(dir, 'config-announce-off.json');
          const config = JSON.parse(readFileSync(configFile, 'utf8')) as { worker?: object };
          writeFileSync(off, JSON.stringify({ ...config, worker: { ...config.worker, announceContainerStart: false } }));
          extra.GRADEFLOW_CONFIG = off;
        }
        worker = await launch('worker', { GRADEFLOW_SLOTS: String(slots), GRADEFLOW_LOG_LEVEL: 'info', ...extra }, 'grading host polling');
        opts.placement?.worker(worker.pid!);
      },
      pauseWorker(paused: boolean) {
        if (worker?.pid) process.kill(worker.pid, paused ? 'SIGSTOP' : 'SIGCONT');
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
