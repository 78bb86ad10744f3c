import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { openDb, type Db } from '../../src/store/db';
import type { NewSubmission } from '../../src/store/submissions';

/** A fresh, empty database and how to remove it. */
export type OpenStore = () => Promise<{ db: Db; cleanup: () => Promise<void> }>;

/**
 * The two databases gradeflow runs on, each fresh per call, for `describe.each`: an embedded PGlite in a
 * temporary directory, and a new database on the suite's real PostgreSQL server (global-setup's).
 */
export const STORE_BACKENDS: Array<[string, OpenStore]> = [
  [
    'PGlite (embedded)',
    async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-store-'));
      const db = await openDb({ dataDir: dir });
      return { db, cleanup: async () => { await db.close(); rmSync(dir, { recursive: true, force: true }); } };
    },
  ],
  [
    'PostgreSQL server',
    async () => {
      const admin = await openDb({ databaseUrl: inject('postgresUrl'), dataDir: '' });
      const name = `gradeflow_${randomUUID().replace(/-/g, '')}`;
      await admin.exec(`CREATE DATABASE ${name}`);
      const db = await openDb({ databaseUrl: inject('postgresUrl').replace(/\/postgres$/, `/${name}`), dataDir: '' });
      return { db, cleanup: async () => { await db.close(); await admin.exec(`DROP DATABASE ${name} WITH (FORCE)`); await admin.close(); } };
    },
  ],
];

/** A submission to store, with a fresh id; `over` replaces any field. */
export function newSubmission(over: Partial<NewSubmission> = {}): NewSubmission {
  const id = randomUUID();
  return {
    id,
    platformId: 'p1',
    workflowId: `submission/p1/${id}`,
    image: 'img:1',
    flavour: 'default',
    grading: { format: 'auto' },
    params: { A: '1' },
    file: { name: 'a.sh', sha256: 'a'.repeat(64), content: Buffer.from('echo hi') },
    ...over,
  };
}
