import type Dockerode from 'dockerode';
import { archiveKind } from '../../archives/read-archive';
import type { GradingSpec } from '../../shared/types';

/** Where the submission (a file, or an archive's contents) lands inside the container. */
export const SUBMISSION_DIR = '/submission';

/** The user graders run as unless the flavour allows the image's own user (nobody:nogroup). */
export const GRADER_USER = '65534:65534';

/**
 * Per-user process ceiling. RLIMIT_NPROC counts every process of the uid on the whole host (all grading
 * containers share uid 65534), so it is a backstop well above any one container's pids limit; the pids
 * cgroup is what holds a fork bomb to its own container.
 */
const NPROC_PER_USER = 4096;

export const LABELS = {
  managed: 'dev.gradeflow.managed',
  submission: 'dev.gradeflow.submission',
  attempt: 'dev.gradeflow.attempt',
  host: 'dev.gradeflow.host',
  platform: 'dev.gradeflow.platform',
  workflow: 'dev.gradeflow.workflow',
  timeLimit: 'dev.gradeflow.time-limit-seconds',
} as const;

/** How a host isolates one flavour: its own configuration decides, not the workflow's input. */
export interface Isolation {
  runtime?: string;
  allowRoot: boolean;
}

export function containerName(spec: Pick<GradingSpec, 'submissionId' | 'attempt'>): string {
  return `gradeflow-${spec.submissionId}-a${spec.attempt}`;
}

/** The grader's environment: the submission's params and where the submission is. Nothing of the worker's. */
function graderEnv(spec: GradingSpec): string[] {
  const env = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
  env.push(`SUBMISSION_DIR=${SUBMISSION_DIR}`, `SUBMISSION_NAME=${spec.file.name}`);
  if (!archiveKind(spec.file.name)) env.push(`SUBMISSION_FILE=${SUBMISSION_DIR}/${spec.file.name}`);
  return env;
}

/**
 * Pure: the Docker create options for one grading attempt. Every line here is a containment measure;
 * docs/security.md says what each one stops.
 */
export function containerOptions(spec: GradingSpec, hostId: string, isolation: Isolation): Dockerode.ContainerCreateOptions {
  const { limits } = spec;
  const memoryBytes = limits.memoryMb * 1024 * 1024;
  const tmpfsBytes = limits.tmpfsMb * 1024 * 1024;
  return {
    name: containerName(spec),
    Image: spec.image,
    Env: graderEnv(spec),
    ...(isolation.allowRoot ? {} : { User: GRADER_USER }),
    Labels: {
      [LABELS.managed]: 'true',
      [LABELS.submission]: spec.submissionId,
      [LABELS.attempt]: String(spec.attempt),
      [LABELS.host]: hostId,
      [LABELS.platform]: spec.platformId,
      [LABELS.workflow]: spec.workflowId,
      [LABELS.timeLimit]: String(limits.timeLimitSeconds),
    },
    NetworkDisabled: true,
    AttachStdin: false,
    OpenStdin: false,
    Tty: false,
    // The submission arrives by the archive API into this anonymous volume: no host path is mounted,
    // so it works with a read-only root and on any host. Its files are root's and read-only to the grader.
    Volumes: { [SUBMISSION_DIR]: {} },
    HostConfig: {
      NetworkMode: 'none',
      Memory: memoryBytes,
      MemorySwap: memoryBytes,
      NanoCpus: Math.round(limits.cpus * 1e9),
      PidsLimit: limits.pids,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${limits.tmpfsMb}m,mode=1777` },
      ShmSize: Math.min(tmpfsBytes, 64 * 1024 * 1024),
      IpcMode: 'private',
      Binds: [],
      Devices: [],
      AutoRemove: false,
      Ulimits: [
        { Name: 'core', Soft: 0, Hard: 0 },
        { Name: 'nofile', Soft: 256, Hard: 256 },
        { Name: 'nproc', Soft: NPROC_PER_USER, Hard: NPROC_PER_USER },
        { Name: 'fsize', Soft: tmpfsBytes, Hard: tmpfsBytes },
      ],
      // Docker keeps what the grader prints on the host's disk: cap it near the output limit we enforce.
      LogConfig: { Type: 'json-file', Config: { 'max-size': `${Math.ceil((limits.outputLimitBytes * 2) / 1024) + 64}k`, 'max-file': '1' } },
      ...(isolation.runtime ? { Runtime: isolation.runtime } : {}),
    },
  };
}
