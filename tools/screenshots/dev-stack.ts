import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/setup/free-port';
import { PROJECT_ROOT } from '../../src/setup/paths';

/** `gradeflow dev` (what `npm start` runs) in a directory of its own, with the Temporal UI the pictures show. */
export interface DevStack {
  apiUrl: string;
  uiUrl: string;
  temporalAddress: string;
  apiKey: string;
  platformId: string;
  /** Everything it printed. */
  log(): string;
  stop(): Promise<void>;
}

const PLATFORM = 'course-lms';

/**
 * Start `gradeflow dev` as a user does, with a configuration of our own: one platform that may run the
 * example graders, and assignment regrades two at a time (so a regrade of a few submissions is still
 * running when its picture is taken). Resolves once it says it is up.
 */
export async function startDevStack(): Promise<DevStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-shots-'));
  const apiKey = `gf_shots_${randomBytes(12).toString('hex')}`;
  const configFile = path.join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      platforms: [{ id: PLATFORM, apiKeys: [apiKey], callbackSecret: `whsec_${randomBytes(24).toString('base64')}`, images: ['gradeflow/example-*'] }],
      regrades: { concurrency: 2, pollIntervalMs: 500 },
      logLevel: 'warn',
    }),
    { mode: 0o600 },
  );
  const [apiPort, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const logFile = path.join(dir, 'dev.log');
  const out = openSync(logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'gradeflow.js'), 'dev'], {
    env: {
      ...process.env,
      GRADEFLOW_CONFIG: configFile,
      GRADEFLOW_DATA_DIR: path.join(dir, 'data'),
      GRADEFLOW_API_PORT: String(apiPort),
      TEMPORAL_PORT: String(temporalPort),
      TEMPORAL_UI_PORT: String(uiPort),
      // Its own grading host id and task queues: other gradeflows on this Docker engine are left alone.
      GRADEFLOW_HOST_ID: `shots-${randomBytes(3).toString('hex')}`,
      GRADEFLOW_TASK_QUEUE_PREFIX: `shots-${randomBytes(3).toString('hex')}`,
    },
    stdio: ['ignore', out, out],
  });
  const log = (): string => readFileSync(logFile, 'utf8');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 60_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 300_000;
  while (!log().includes('gradeflow is up.')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const text = log();
      await stop();
      throw new Error(`gradeflow dev did not start:\n${text.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    apiUrl: `http://127.0.0.1:${apiPort}`,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    temporalAddress: `127.0.0.1:${temporalPort}`,
    apiKey,
    platformId: PLATFORM,
    log,
    stop,
  };
}
