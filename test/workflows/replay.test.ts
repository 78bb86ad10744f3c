import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from './history-json';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { HISTORIES_DIR } from './workflow-env';

/**
 * Every committed history (test/fixtures/histories/*.json) replays on today's workflow code: a change
 * that would make a running workflow non-deterministic fails here. Refresh the fixtures only on purpose
 * (`npm run histories`, see docs/ARCHITECTURE.md).
 */
const files = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')).sort();

describe('replay of recorded histories', () => {
  it('has histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
  });

  it('replays every history without a nondeterminism error', async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    const histories = files.map((f) => ({
      workflowId: path.basename(f, '.json'),
      history: historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES_DIR, f), 'utf8'))),
    }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, histories)) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
  });
});
