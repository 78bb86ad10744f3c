import { describe, expect, it } from 'vitest';
import { containerOptions, LABELS, writableRootOwner } from '../../src/activities/docker/container-options';
import type { GradingSpec } from '../../src/shared/activity-contracts';

const spec = (over: Partial<GradingSpec> = {}): GradingSpec => ({
  submissionId: 'sub-1',
  workflowId: 'submission/p/w1',
  platformId: 'p',
  attempt: 2,
  image: 'grader:1',
  flavour: 'default',
  limits: { cpus: 1.5, memoryMb: 256, pids: 64, timeLimitSeconds: 30, outputLimitBytes: 1048576, tmpfsMb: 32 },
  env: { LANG_LEVEL: '3' },
  file: { name: 'main.py', sha256: 'a'.repeat(64), size: 10 },
  grading: { format: 'auto' },
  ...over,
});

describe('container options', () => {
  it('hardens every container', () => {
    const o = containerOptions(spec(), 'host-a', { allowRoot: false });
    const h = o.HostConfig!;
    expect(o.User).toBe('65534:65534');
    expect(o.NetworkDisabled).toBe(true);
    expect(h).toMatchObject({
      NetworkMode: 'none',
      Memory: 256 * 1048576,
      MemorySwap: 256 * 1048576,
      NanoCpus: 1.5e9,
      PidsLimit: 64,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      ReadonlyRootfs: true,
      Binds: [],
      Devices: [],
    });
    expect(h.Tmpfs!['/tmp']).toContain('size=32m');
    expect(h.Ulimits).toEqual(
      expect.arrayContaining([
        { Name: 'nofile', Soft: 256, Hard: 256 },
        { Name: 'fsize', Soft: 32 * 1048576, Hard: 32 * 1048576 },
        expect.objectContaining({ Name: 'nproc' }),
      ]),
    );
    expect(h.Runtime).toBeUndefined();
    expect(o.Labels).toMatchObject({ [LABELS.workflow]: 'submission/p/w1', [LABELS.attempt]: '2', [LABELS.host]: 'host-a' });
  });

  it("gives only the submission's params, which grading this is and where the submission is", () => {
    expect(containerOptions(spec(), 'h', { allowRoot: false }).Env).toEqual([
      'LANG_LEVEL=3',
      'GRADEFLOW_SUBMISSION_ID=sub-1',
      'GRADEFLOW_ATTEMPT=2',
      'SUBMISSION_DIR=/submission',
      'SUBMISSION_NAME=main.py',
      'SUBMISSION_FILE=/submission/main.py',
    ]);
    const archive = containerOptions(spec({ file: { name: 'work.zip', sha256: 'b'.repeat(64), size: 1 } }), 'h', { allowRoot: false });
    expect(archive.Env).not.toContainEqual(expect.stringMatching(/^SUBMISSION_FILE=/));
  });

  it("under gVisor, moves the flavour's pids to RLIMIT_NPROC and gives the sandbox's threads room", () => {
    const h = containerOptions(spec(), 'h', { runtime: 'runsc', allowRoot: false }).HostConfig!;
    expect(h.Runtime).toBe('runsc');
    expect(h.PidsLimit).toBeGreaterThan(64 + 100);
    expect(h.Ulimits).toContainEqual({ Name: 'nproc', Soft: 64, Hard: 64 });
  });

  it("runs as the image's own user only when the flavour allows root", () => {
    expect(containerOptions(spec(), 'h', { allowRoot: true }).User).toBeUndefined();
  });

  it('adds SETUID and SETGID only for a root flavour that may switch users, nothing else changes', () => {
    const plain = containerOptions(spec(), 'h', { allowRoot: true }).HostConfig!;
    const switching = containerOptions(spec(), 'h', { allowRoot: true, switchUser: true }).HostConfig!;
    expect(plain.CapAdd).toBeUndefined();
    expect(switching.CapAdd).toEqual(['SETUID', 'SETGID']);
    expect({ ...switching, CapAdd: undefined }).toEqual({ ...plain, CapAdd: undefined });
    expect(containerOptions(spec(), 'h', { allowRoot: false, switchUser: true }).HostConfig!.CapAdd).toBeUndefined();
  });

  it("gives a Gradescope grader a writable /autograder: a bounded tmpfs its user owns, filled from the image's copy", () => {
    const gradescope = spec({ grading: { format: 'gradescope' } });
    const nobody = containerOptions(gradescope, 'h', { allowRoot: false }, [], '0:0');
    expect(nobody.HostConfig!.Tmpfs!['/autograder']).toBe('rw,exec,nosuid,nodev,size=32m,uid=65534,gid=65534');
    expect(nobody.HostConfig!.Tmpfs!['/autograder/results']).toContain('size=32m');
    expect(Object.keys(nobody.Volumes!).sort()).toEqual(['/autograder/submission', '/gradeflow-image-copy']);
    // The entry script copies the image's content in before the grader (run_autograder) runs.
    const script = nobody.Entrypoint![2]!;
    expect(script.indexOf("cp -R \"$f\" '/autograder'/")).toBeLessThan(script.indexOf('"$@"'));
    expect(nobody.Entrypoint!.slice(3)).toEqual(['gradeflow', '/autograder/run_autograder']);
    // Root flavour: the image's own user owns it (root when the image names none, or names a user).
    expect(writableRootOwner({ allowRoot: true }, '')).toEqual({ uid: 0, gid: 0 });
    expect(writableRootOwner({ allowRoot: true }, '1000:100')).toEqual({ uid: 1000, gid: 100 });
    expect(writableRootOwner({ allowRoot: true }, 'student')).toEqual({ uid: 0, gid: 0 });
    expect(containerOptions(gradescope, 'h', { allowRoot: true }, [], '1000').HostConfig!.Tmpfs!['/autograder']).toContain('uid=1000,gid=1000');
    // Other formats: no such mount.
    expect(containerOptions(spec(), 'h', { allowRoot: false }).HostConfig!.Tmpfs!['/autograder']).toBeUndefined();
  });
});
