import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { ensureDocker } from '../../src/setup/docker';
import { freePort } from '../../src/setup/free-port';
import { ensureImageFromDir, ensureImages } from '../../src/setup/images';
import { startTempPostgres } from '../../src/setup/postgres';
import { ensureTemporalCli } from '../../src/setup/temporal-cli';
import { startDevServer } from '../../src/setup/temporal-dev-server';
import { ensureTemporalServer } from '../../src/setup/temporal-server';
import { TEST_IMAGES } from './images';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    postgresUrl: string;
    workflowBundlePath: string;
  }
}

/**
 * One real Temporal dev server, one real PostgreSQL, the Docker engine and images, one workflow bundle;
 * and the real Temporal server's binaries built (test/cluster starts its own servers).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const docker = await ensureDocker();
  await ensureImages(docker);
  for (const image of TEST_IMAGES) await ensureImageFromDir(docker, image);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-test-'));
  const cli = await ensureTemporalCli();
  // test/cluster runs the real Temporal server: built here once per machine (about 7 minutes on 2 cores)
  // when `npm test`'s set-up has not built it already.
  await ensureTemporalServer();
  const port = await freePort();
  const temporal = await startDevServer({
    cli,
    port,
    uiPort: await freePort(),
    namespace: 'default',
    logFile: path.join(dir, 'temporal.log'),
    headless: true,
  });
  const postgres = await startTempPostgres(await freePort());
  const bundle = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  project.provide('temporalAddress', temporal.address);
  project.provide('postgresUrl', postgres.url);
  project.provide('workflowBundlePath', bundlePath);
  return async () => {
    await temporal.stop();
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
