import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_NAMES } from '../shared/search-attributes';
import { say } from './paths';

/**
 * Matching with priority keys (`useNewMatcher`) and fairness keys (`enableFairness`), one partition per task
 * queue (priority and fairness hold within a partition): the same as src/setup/temporal-server.ts writes.
 */
const MATCHING_DYNAMIC_CONFIG = [
  'matching.useNewMatcher=true',
  'matching.enableFairness=true',
  'matching.numTaskqueueReadPartitions=1',
  'matching.numTaskqueueWritePartitions=1',
];

export interface DevServer {
  address: string;
  uiUrl: string;
  pid: number;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  cli: string;
  port: number;
  uiPort: number;
  namespace: string;
  /** SQLite file that persists workflows across restarts; omit for in-memory (tests). */
  dbFile?: string;
  logFile: string;
  headless?: boolean;
  /** Its own process group: a Ctrl-C meant for the parent does not reach it (the parent stops it in order). */
  detached?: boolean;
  /** The codec endpoint the UI's browser decodes payloads with (`--ui-codec-endpoint`). */
  uiCodecEndpoint?: string;
}

export function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Poll until the frontend at `options.address` answers GetSystemInfo (or the process exits). */
export async function waitForFrontend(
  options: ConnectionOptions & { address: string },
  child: ChildProcess,
  logFile: string,
  timeoutMs = 60_000,
): Promise<void> {
  const address = options.address;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal server exited with ${child.exitCode}; see ${logFile}`);
    try {
      const conn = await Connection.connect({ ...options, connectTimeout: 1000 });
      try {
        await conn.workflowService.getSystemInfo({});
        return;
      } finally {
        await conn.close();
      }
    } catch {
      if (Date.now() > deadline) throw new Error(`temporal server did not answer on ${address} within ${timeoutMs / 1000} s; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * Start `temporal server start-dev` on loopback with gradeflow's search attributes registered and task-queue
 * priority and fairness on, and wait
 * until its frontend answers. `stop()` ends exactly the process we started.
 */
export async function startDevServer(o: DevServerOptions): Promise<DevServer> {
  for (const port of [o.port, o.uiPort]) {
    if (await portAnswers(port)) {
      throw new Error(`port ${port} on 127.0.0.1 is already in use; stop what holds it or set TEMPORAL_PORT / TEMPORAL_UI_PORT (or TEMPORAL_ADDRESS to use a running server)`);
    }
  }
  mkdirSync(path.dirname(o.logFile), { recursive: true });
  if (o.dbFile) mkdirSync(path.dirname(o.dbFile), { recursive: true });
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(o.port),
    '--ui-port', String(o.uiPort),
    '--namespace', o.namespace,
    '--log-level', 'warn',
    ...(o.dbFile ? ['--db-filename', o.dbFile] : []),
    ...(o.headless ? ['--headless'] : []),
    ...(o.uiCodecEndpoint ? ['--ui-codec-endpoint', o.uiCodecEndpoint] : []),
    ...SEARCH_ATTRIBUTE_NAMES.flatMap((n) => ['--search-attribute', `${n}=Keyword`]),
    // Task-queue priority and fairness keys (off by default in Server 1.32), as on the real server.
    ...MATCHING_DYNAMIC_CONFIG.flatMap((kv) => ['--dynamic-config-value', kv]),
  ];
  const out = openSync(o.logFile, 'a');
  const child = spawn(o.cli, args, { stdio: ['ignore', out, out], detached: o.detached ?? false });
  const address = `127.0.0.1:${o.port}`;
  try {
    await waitForFrontend({ address }, child, o.logFile);
  } catch (err) {
    child.kill('SIGTERM');
    throw err;
  }
  say(`Temporal dev server on ${address} (pid ${child.pid})`);
  return {
    address,
    uiUrl: `http://127.0.0.1:${o.uiPort}`,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
