import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ensureChromium } from '../../src/setup/chromium';
import { PROJECT_ROOT } from '../../src/setup/paths';
import { openBrowser, runQuery, shoot, type Shot } from './capture';
import { startDevStack } from './dev-stack';
import { cancelRegrade, gradeAssignment, pausedRegrade, type RegradeProgress, type Scenario } from './scenario';

/** Where docs/operations.md finds its pictures. */
export const DEFAULT_OUT = path.join(PROJECT_ROOT, 'docs', 'images');

const workflowPage = (ui: string, workflowId: string, runId: string, tab: string): string =>
  `${ui}/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${runId}/${tab}`;

/**
 * The operator guide's pictures of the Temporal UI, taken in a real browser against a real `gradeflow dev`:
 * the list filtered to one assignment, a completed grading, a failed one and why, and an assignment
 * regrade with its progress. Returns each picture with the page's text, and what the pictures should show.
 */
export async function takeScreenshots(
  out: string,
  log: (line: string) => void = () => undefined,
): Promise<{ shots: Shot[]; scenario: Scenario; regrade: RegradeProgress }> {
  mkdirSync(out, { recursive: true });
  const chromium = await ensureChromium();
  log('starting gradeflow dev…');
  const stack = await startDevStack();
  const browser = await openBrowser(chromium);
  const connection = await Connection.connect({ address: stack.temporalAddress });
  try {
    // The raw service call: a describe through a Client would decode the memo, which a payload key encrypts.
    const runId = async (workflowId: string): Promise<string> => {
      const { workflowExecutionInfo } = await connection.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId } });
      return workflowExecutionInfo!.execution!.runId!;
    };
    const s = await gradeAssignment(stack, log);
    const shots: Shot[] = [];
    const query = `GradeflowAssignment="${s.assignment}"`;
    shots.push(await shoot(browser, out, 'ui-assignment-list', `${stack.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`,
      (t) => s.assignmentWorkflows.every((w) => t.includes(w)), `the ${s.assignmentWorkflows.length} workflows of ${s.assignment}`));
    log(`took ${shots.at(-1)!.file}`);
    shots.push(await shoot(browser, out, 'ui-completed-grading', workflowPage(stack.uiUrl, s.completed.workflowId, await runId(s.completed.workflowId), 'history'),
      (t) => t.includes('COMPLETED') && t.includes('"grade"'), 'a completed grading'));
    log(`took ${shots.at(-1)!.file}`);
    // Why it failed, at a glance: its outcome attributes (the same a list can be filtered on).
    shots.push(await shoot(browser, out, 'ui-failed-grading', workflowPage(stack.uiUrl, s.failed.workflowId, await runId(s.failed.workflowId), 'search-attributes'),
      (t) => t.includes(s.failed.workflowId) && t.includes('GradeflowReason') && t.includes(s.failed.reason), 'a failed grading and why'));
    log(`took ${shots.at(-1)!.file}`);
    const regrade = await pausedRegrade(stack, s.assignment);
    shots.push(await shoot(browser, out, 'ui-assignment-regrade', workflowPage(stack.uiUrl, regrade.workflowId, await runId(regrade.workflowId), 'query'),
      (t) => t.includes('Query Type'), 'the Queries tab', runQuery('progress', `"total": ${regrade.progress.total}`)));
    log(`took ${shots.at(-1)!.file}`);
    await cancelRegrade(stack, regrade.regradeId);
    return { shots, scenario: s, regrade: regrade.progress };
  } finally {
    await connection.close();
    await browser.close();
    await stack.stop();
  }
}

if (require.main === module) {
  const i = process.argv.indexOf('--out');
  const out = path.resolve(i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : DEFAULT_OUT);
  takeScreenshots(out, (line) => process.stderr.write(`screenshots: ${line}\n`)).then(
    ({ shots }) => {
      for (const s of shots) process.stdout.write(`${path.relative(process.cwd(), s.file)}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`screenshots: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
