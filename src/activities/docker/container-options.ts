import type Dockerode from 'dockerode';
import type { GradingSpec } from '../../shared/types';

/** Where the submitted file lands inside the container. */
export const SUBMISSION_DIR = '/submission';

/** The user graders run as unless the image says otherwise (nobody:nogroup). */
export const GRADER_USER = '65534:65534';

export const LABELS = {
  managed: 'dev.gradeflow.managed',
  submission: 'dev.gradeflow.submission',
  attempt: 'dev.gradeflow.attempt',
  host: 'dev.gradeflow.host',
  platform: 'dev.gradeflow.platform',
} as const;

export function containerName(spec: Pick<GradingSpec, 'submissionId' | 'attempt'>): string {
  return `gradeflow-${spec.submissionId}-a${spec.attempt}`;
}

/**
 * Pure: the Docker create options for one grading attempt. Only the submission's params reach the
 * container's environment, never the worker's own.
 */
export function containerOptions(
  spec: GradingSpec,
  hostId: string,
  runtime?: string,
): Dockerode.ContainerCreateOptions {
  const { limits } = spec;
  const memoryBytes = limits.memoryMb * 1024 * 1024;
  const env = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
  env.push(`SUBMISSION_FILE=${SUBMISSION_DIR}/${spec.file.name}`, `SUBMISSION_DIR=${SUBMISSION_DIR}`);
  return {
    name: containerName(spec),
    Image: spec.image,
    Env: env,
    User: GRADER_USER,
    Labels: {
      [LABELS.managed]: 'true',
      [LABELS.submission]: spec.submissionId,
      [LABELS.attempt]: String(spec.attempt),
      [LABELS.host]: hostId,
      [LABELS.platform]: spec.platformId,
    },
    NetworkDisabled: true,
    AttachStdin: false,
    OpenStdin: false,
    Tty: false,
    // The submission arrives by the archive API into this anonymous volume: no host path is mounted,
    // so it works with a read-only root and on any host.
    Volumes: { [SUBMISSION_DIR]: {} },
    HostConfig: {
      NetworkMode: 'none',
      Memory: memoryBytes,
      MemorySwap: memoryBytes,
      NanoCpus: Math.round(limits.cpus * 1e9),
      PidsLimit: limits.pids,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': `rw,noexec,nosuid,size=${limits.tmpfsMb}m` },
      IpcMode: 'private',
      Privileged: false,
      AutoRemove: false,
      Ulimits: [
        { Name: 'core', Soft: 0, Hard: 0 },
        { Name: 'nofile', Soft: 256, Hard: 256 },
      ],
      LogConfig: { Type: 'json-file', Config: {} },
      ...(runtime ? { Runtime: runtime } : {}),
    },
  };
}
