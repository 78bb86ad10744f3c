import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../setup/paths';

const versionOf = (file: string): string => (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;

/** What GET /v1/version answers: read once, from the package files. */
export const VERSIONS = {
  gradeflow: versionOf(path.join(PROJECT_ROOT, 'package.json')),
  api: 'v1',
  temporal_sdk: versionOf(require.resolve('@temporalio/client/package.json')),
  openapi: '/v1/openapi.json',
};
