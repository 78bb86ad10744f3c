import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { fairnessKey, taskPriority } from '../../src/control/task-priority';

describe('task priority', () => {
  it('keys fairness by course within the platform, or by the platform alone', () => {
    expect(fairnessKey('moodle', 'cs101')).toBe('moodle/cs101');
    expect(fairnessKey('moodle', null)).toBe('moodle');
    expect(fairnessKey('moodle', 'cs101')).not.toBe(fairnessKey('canvas', 'cs101'));
  });

  it('keeps a fairness key within Temporal\'s 64 bytes: a long course id is replaced by a digest, still distinct', () => {
    const long = 'c'.repeat(200);
    const platform = 'p'.repeat(63);
    const key = fairnessKey(platform, long);
    expect(Buffer.byteLength(key)).toBeLessThanOrEqual(64);
    expect(key).toMatch(/^p{24}\/#[0-9a-f]{32}$/);
    expect(fairnessKey(platform, `${long}d`)).not.toBe(key);
    expect(Buffer.byteLength(fairnessKey('moodle', 'é'.repeat(40)))).toBeLessThanOrEqual(64);
  });

  it('takes the regrade default and the platform\'s weight from the configuration', () => {
    const config = loadConfig({}, {
      workerToken: 'x'.repeat(32),
      priorities: { default: 3, regrade: 5 },
      platforms: [{ id: 'moodle', apiKeys: ['k'.repeat(16)], callbackSecret: 'whsec_abc=', allowLoopbackCallbacks: false, images: ['*'], fairnessWeight: 2 }],
    });
    expect(taskPriority({ platformId: 'moodle', courseId: 'cs101' }, config, 1)).toEqual({
      key: 1,
      regradeKey: 5,
      fairnessKey: 'moodle/cs101',
      fairnessWeight: 2,
    });
    expect(taskPriority({ platformId: 'other', courseId: null }, config, 3).fairnessWeight).toBe(1);
  });
});
