import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Shot } from '../../tools/screenshots/capture';
import { takeScreenshots } from '../../tools/screenshots/main';

/**
 * `npm run screenshots` as the guide's pictures are made: a real `gradeflow dev`, real gradings, the real
 * Temporal UI in headless Chromium. The pictures must be real PNGs of the window, and each page must show
 * what docs/operations.md says it shows.
 */

let dir: string;
let result: Awaited<ReturnType<typeof takeScreenshots>>;
const shot = (name: string): Shot => result.shots.find((s) => s.name === name)!;

/** Width and height from a PNG's IHDR chunk (after its 8-byte signature). */
function pngSize(file: string): { width: number; height: number } {
  const b = readFileSync(file);
  expect(b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  expect(b.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-shots-test-'));
  result = await takeScreenshots(dir);
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm run screenshots', () => {
  it('takes four window-sized PNGs', () => {
    expect(result.shots.map((s) => s.name)).toEqual(['ui-assignment-list', 'ui-completed-grading', 'ui-failed-grading', 'ui-assignment-regrade']);
    for (const s of result.shots) {
      expect(pngSize(s.file)).toEqual({ width: 1440, height: 900 });
      // A blank or error page compresses to a few kB; a drawn UI does not.
      expect(readFileSync(s.file).length).toBeGreaterThan(30_000);
    }
  });

  it('lists exactly the assignment\'s submissions when filtered on GradeflowAssignment', () => {
    const list = shot('ui-assignment-list');
    for (const w of result.scenario.assignmentWorkflows) expect(list.text).toContain(w);
    expect(list.text).not.toContain(result.scenario.otherWorkflow);
    expect(list.url).toContain(encodeURIComponent(`GradeflowAssignment="${result.scenario.assignment}"`));
  });

  it('shows a completed grading with its grade, and a failed one with why (its outcome attributes)', () => {
    expect(shot('ui-completed-grading').text).toContain(result.scenario.completed.workflowId);
    expect(shot('ui-completed-grading').text).toMatch(/"grade": 10\b/);
    const failed = shot('ui-failed-grading');
    expect(result.scenario.failed.reason).toBe('time_limit_exceeded');
    expect(failed.text).toContain(result.scenario.failed.workflowId);
    expect(failed.text).toContain('"GradeflowReason": "time_limit_exceeded"');
    expect(failed.text).toContain('"GradeflowOrigin": "student"');
    // Privacy by default: the student is a keyed hash there, never the id.
    expect(failed.text).toMatch(/"GradeflowStudent": "sh_[0-9a-f]{24}"/);
  });

  it('shows a running assignment regrade\'s progress from its query', () => {
    const text = shot('ui-assignment-regrade').text;
    expect(text).toContain('RUNNING');
    expect(text).toContain(`"total": ${result.regrade.total}`);
    expect(text).toContain(`"done": ${result.regrade.done}`);
    expect(text).toContain('"paused": true');
    expect(result.regrade.done).toBeGreaterThan(0);
    expect(result.regrade.done).toBeLessThan(result.regrade.total);
  });
});
