import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startServer } from '../main/server';
import { loadConfig } from '../config/load';
import { createLogger } from '../logging';
import { ensureDocker } from '../setup/docker';
import { ensureImages } from '../setup/images';
import { PROJECT_ROOT, say } from '../setup/paths';
import { ensureTemporalCli } from '../setup/temporal-cli';
import { startDevServer, type DevServer } from '../setup/temporal-dev-server';
import { startGradingHost } from '../main/grading-host';
import { generatedPrivacyEnv } from '../privacy/generated-secrets';
import { ensureDemoConfig } from './demo-config';
import { onShutdown } from './processes';

/** `gradeflow dev` (= `npm start`): the whole system in one process, set up from nothing. */
export async function runDev(): Promise<void> {
  const env = { ...process.env };
  let demo: ReturnType<typeof ensureDemoConfig> | undefined;
  if (!env.GRADEFLOW_CONFIG) {
    // The demo config lives in the data dir, which the environment (or the default) names.
    demo = ensureDemoConfig(loadConfig(env).dataDir);
    env.GRADEFLOW_CONFIG = demo.file;
  }
  let config = loadConfig(env);
  let uiCodecEndpoint: string | undefined;
  if (!config.temporal.address) {
    // npm start: payloads encrypted with a key kept in the data dir (docs/operations.md, "Privacy"), and the
    // dev server's UI decodes them through this server's codec endpoint (token in the path: the UI sends none).
    const ui = [`http://127.0.0.1:${config.temporal.uiPort}`, `http://localhost:${config.temporal.uiPort}`];
    if (config.codecServer.corsOrigins.length === 0) env.GRADEFLOW_CODEC_CORS_ORIGINS = ui.join(',');
    Object.assign(env, generatedPrivacyEnv(path.join(config.dataDir, 'dev'), config, 'dev'));
    config = loadConfig(env);
    const token = env.GRADEFLOW_CODEC_TOKEN;
    if (token && config.api.port !== 0) uiCodecEndpoint = `http://127.0.0.1:${config.api.port}/codec/t/${token}`;
  }
  // One process: the server and its grading host share a token made now when the file has none.
  config.workerToken ??= randomBytes(24).toString('base64url');
  say(`config ${path.relative(process.cwd(), env.GRADEFLOW_CONFIG) || env.GRADEFLOW_CONFIG} is valid; starting…`);
  const logger = createLogger(config.logLevel);

  const docker = await ensureDocker();
  await ensureImages(docker);

  let devServer: DevServer | undefined;
  if (!config.temporal.address) {
    const cli = await ensureTemporalCli();
    devServer = await startDevServer({
      cli,
      port: config.temporal.port,
      uiPort: config.temporal.uiPort,
      namespace: config.temporal.namespace,
      dbFile: path.join(config.dataDir, 'temporal.db'),
      logFile: path.join(config.dataDir, 'temporal.log'),
      ...(uiCodecEndpoint ? { uiCodecEndpoint } : {}),
    });
  }
  let server: Awaited<ReturnType<typeof startServer>>;
  let host: Awaited<ReturnType<typeof startGradingHost>>;
  try {
    server = await startServer(config, { logger, docker });
    host = await startGradingHost(config, { logger, docker });
  } catch (err) {
    await devServer?.stop();
    throw err;
  }

  onShutdown(async () => {
    await host.stop();
    await server.stop();
    await devServer?.stop();
  });

  const example = path.relative(process.cwd(), path.join(PROJECT_ROOT, 'examples', 'sum-grader', 'submission', 'sum.sh'));
  const lines = [
    '',
    `gradeflow is up.`,
    `  API          ${server.url}   (health: ${server.url}/healthz)`,
    ...(devServer ? [`  Temporal UI  ${devServer.uiUrl}`] : [`  Temporal     ${config.temporal.address}`]),
    `  grading host ${host.hostId} (${config.worker.slots} slots)`,
    ...(uiCodecEndpoint ? [`  payloads     encrypted in Temporal; the UI decodes them through ${server.url}/codec`] : []),
  ];
  if (demo) {
    lines.push(
      `  demo platform "demo"  API key: ${demo.apiKey}`,
      `                        callback secret: ${demo.callbackSecret}`,
      `                        may run images: ${demo.images.join(', ')} (its "images" in ${demo.file})`,
      '',
      'Grade the example submission:',
      `  curl -s -H 'Authorization: Bearer ${demo.apiKey}' -F image=gradeflow/example-sum:2 -F file=@${example} ${server.url}/v1/submissions`,
      'then GET the id it returns:',
      `  curl -s -H 'Authorization: Bearer ${demo.apiKey}' ${server.url}/v1/submissions/<id>`,
    );
  }
  lines.push('', 'Ctrl-C stops everything.', '');
  say(lines.join('\n'));
  await host.done;
}
