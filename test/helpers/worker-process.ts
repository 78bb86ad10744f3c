import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Stack } from './stack';

const BIN = path.resolve(__dirname, '../../bin/gradeflow.js');
const running = new Set<ChildProcess>();

export interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  log(): string;
  /** The process's peak resident set size so far (VmHWM), bytes. */
  peakRssBytes(): number;
}

/**
 * A real `gradeflow worker` process (the built CLI) serving `stack`'s queues under its host id, with its
 * own config file in `dir`. Resolves once it polls.
 */
export async function startWorkerProcess(
  stack: Stack,
  dir: string,
  worker: { shutdownGraceSeconds: number; slots?: number },
  overrides: Record<string, unknown> = {},
): Promise<WorkerProcess> {
  const file = path.join(dir, `worker-${Date.now()}-${running.size}.json`);
  const config = { flavours: stack.config.flavours, archives: stack.config.archives, worker: { slots: 2, ...worker }, ...overrides };
  writeFileSync(file, JSON.stringify(config));
  const child = spawn(process.execPath, [BIN, 'worker'], {
    env: {
      PATH: process.env.PATH,
      DOCKER_HOST: process.env.DOCKER_HOST,
      GRADEFLOW_CONFIG: file,
      GRADEFLOW_DATA_DIR: dir,
      GRADEFLOW_LOG_LEVEL: 'info',
      GRADEFLOW_HOST_ID: stack.hostId,
      GRADEFLOW_PUBLIC_URL: stack.server.url,
      GRADEFLOW_WORKER_TOKEN: stack.config.workerToken,
      GRADEFLOW_TASK_QUEUE_PREFIX: stack.config.temporal.taskQueuePrefix,
      TEMPORAL_ADDRESS: stack.config.temporal.address,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const deadline = Date.now() + 30_000;
  while (!log.includes('grading host polling')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    exited,
    log: () => log,
    peakRssBytes() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
      return kb * 1024;
    },
  };
}

/** Kill what a test left running (after a failure), by PID. */
export function killWorkerProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
}
