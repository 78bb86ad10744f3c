import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { useTempDir } from '../helpers/hooks';

/**
 * The real CLI (`node bin/gradeflow.js`, built) with config files: a bad one is refused before anything
 * starts, naming the field; `gradeflow dev` makes the worker token a file leaves out, while `server` and
 * `worker` require it.
 */

const BIN = path.resolve(__dirname, '../../bin/gradeflow.js');
const TOKEN = randomBytes(24).toString('hex');
const dir = useTempDir('cli-config');
const running = new Set<ChildProcess>();
let runs = 0;

// What a failed test left running, by PID.
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `gradeflow <command>` with `config` as its GRADEFLOW_CONFIG file and an empty data dir of its own. */
function gradeflow(command: string, config: Record<string, unknown>): Run & { dataDir: string } {
  const name = `${command}-${++runs}`;
  const file = path.join(dir(), `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  const dataDir = path.join(dir(), `${name}-data`);
  const child = spawn(process.execPath, [BIN, command], {
    env: {
      PATH: process.env.PATH,
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
      GRADEFLOW_CONFIG: file,
      GRADEFLOW_DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => output, exited, dataDir };
}

const entries = (d: string) => {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
};

describe('a bad config file is refused before anything starts, naming the field', () => {
  const BAD = [
    { what: 'a field of the wrong type', config: { workerToken: TOKEN, worker: { slots: 'many' } }, message: 'config field "worker.slots" must be integer' },
    { what: 'an unknown key', config: { workerToken: TOKEN, colour: 'blue' }, message: 'config field "colour" is not a known setting' },
    { what: 'an unknown nested key', config: { workerToken: TOKEN, callbacks: { retries: 3 } }, message: 'config field "callbacks.retries" is not a known setting' },
  ];
  const cases = ['dev', 'server', 'worker'].flatMap((command) => BAD.map((bad) => ({ command, ...bad })));

  // Concurrently: each run is mostly Node loading the CLI's modules.
  it.concurrent.each(cases)('gradeflow $command with $what', async ({ command, config, message }) => {
    const run = gradeflow(command, config);
    expect(await run.exited, run.output()).toBe(1);
    expect(run.output()).toContain(`gradeflow: ${message}`);
    expect(run.output()).not.toMatch(/starting|listening|polling/);
    expect(entries(run.dataDir)).toEqual([]); // no database, no Temporal dev server, nothing written
  });

  it.concurrent.each(['server', 'worker'])('gradeflow %s without a workerToken', async (command) => {
    const run = gradeflow(command, { platforms: [] });
    expect(await run.exited, run.output()).toBe(1);
    expect(run.output()).toContain(`gradeflow: config field "workerToken" (or GRADEFLOW_WORKER_TOKEN) is required for \`gradeflow ${command}\``);
    expect(entries(run.dataDir)).toEqual([]);
  });
});

describe('gradeflow dev with a config file of your own', () => {
  it('makes the worker token the file leaves out, comes up, and stops on SIGTERM', async () => {
    const id = randomBytes(3).toString('hex');
    const run = gradeflow(
      'dev',
      {
        // The suite's Temporal server, so that dev starts no dev server of its own.
        temporal: { address: inject('temporalAddress'), taskQueuePrefix: `cli-${id}` },
        api: { host: '127.0.0.1', port: 0 },
        worker: { hostId: `cli-${id}`, shutdownGraceSeconds: 1 },
        logLevel: 'warn',
      },
    );
    const deadline = Date.now() + 60_000;
    while (!run.output().includes('gradeflow is up')) {
      if (run.child.exitCode !== null || Date.now() > deadline) throw new Error(`gradeflow dev did not come up:\n${run.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(run.output()).toContain('is valid; starting');
    const url = /API\s+(http:\/\/\S+)/.exec(run.output())![1]!;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    run.child.kill('SIGTERM');
    expect(await run.exited, run.output()).toBe(0);
  }, 90_000);
});
