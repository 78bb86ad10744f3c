import type Dockerode from 'dockerode';
import { archiveKind } from '../../archives/read-archive';
import { containerLayout, IMAGE_COPY_DIR, type ContainerLayout } from '../../results/container-layout';
import { FRAME_ALLOWANCE_BYTES, wrappedEntrypoint } from '../../results/results-frame';
import type { GradingSpec } from '../../shared/activity-contracts';
import type { GraderFacts } from '../../shared/grader-facts';
import { graderFactsEnv } from './grader-facts';

/** The user graders run as unless the flavour allows the image's own user (nobody:nogroup). */
const GRADER_USER = '65534:65534';

/**
 * Who owns a writable root's tmpfs: the user the grader runs as (runc gives a tmpfs the mode of the image's
 * directory, often root's 0755, so ownership is what lets the grader write). The image's own user when the
 * flavour allows it: numeric `uid[:gid]`, else root (a user given by name is not resolved here).
 */
export function writableRootOwner(isolation: Isolation, imageUser: string | undefined): { uid: number; gid: number } {
  if (!isolation.allowRoot) return { uid: 65534, gid: 65534 };
  const m = /^(\d+)(?::(\d+))?$/.exec(imageUser ?? '');
  return m ? { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) } : { uid: 0, gid: 0 };
}

/**
 * Under runc, RLIMIT_NPROC counts every process of the uid on the whole host (all grading containers
 * share uid 65534), so it is only a backstop well above any one container's pids limit; the pids cgroup
 * holds a fork bomb to its own container.
 */
const NPROC_PER_USER = 4096;

/**
 * Under gVisor the roles swap: the pids cgroup counts the sandbox kernel's own host threads (it dies with
 * "newosproc" below about 40), while RLIMIT_NPROC is counted by the sandbox kernel for this sandbox only.
 * So the flavour's `pids` becomes RLIMIT_NPROC, and the cgroup gets this headroom on top of it.
 */
const GVISOR_THREAD_HEADROOM = 256;

const isGvisor = (runtime: string | undefined): boolean => runtime === 'runsc';

/** The pids cgroup limit and RLIMIT_NPROC that hold a container to its flavour's `pids`. */
function processLimits(pids: number, runtime: string | undefined): { pidsLimit: number; nproc: number } {
  return isGvisor(runtime) ? { pidsLimit: pids + GVISOR_THREAD_HEADROOM, nproc: pids } : { pidsLimit: pids, nproc: NPROC_PER_USER };
}

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
  /** With allowRoot: SETUID and SETGID, so that a root grader can run code as another user (runuser). */
  switchUser?: boolean;
}

/** What `runuser -u student` needs of a root grader (measured: without SETGID "cannot set groups", without SETUID "cannot set user id"). */
const SWITCH_USER_CAPS = ['SETUID', 'SETGID'];

/** Room in Docker's log file: far above the output limit, so a late reader never finds the head rotated away. */
function logFileKb(outputLimitBytes: number): number {
  return Math.ceil(Math.max(outputLimitBytes * 4, 16 * 1024 * 1024) / 1024);
}

export function containerName(spec: Pick<GradingSpec, 'submissionId' | 'attempt'>): string {
  return `gradeflow-${spec.submissionId}-a${spec.attempt}`;
}

/**
 * The grader's environment: the submission's params, where the submission is, and which grading this is
 * (gradeflow's submission id and attempt number; params may not use these names). Nothing of the worker's.
 */
function graderEnv(spec: GradingSpec, layout: ContainerLayout, facts: GraderFacts | undefined): string[] {
  const env = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
  env.push(`GRADEFLOW_SUBMISSION_ID=${spec.submissionId}`, `GRADEFLOW_ATTEMPT=${spec.attempt}`, ...graderFactsEnv(facts, spec));
  env.push(`SUBMISSION_DIR=${layout.submissionDir}`, `SUBMISSION_NAME=${spec.file.name}`);
  if (!archiveKind(spec.file.name)) env.push(`SUBMISSION_FILE=${layout.submissionDir}/${spec.file.name}`);
  if (layout.resultsFile) env.push(`RESULTS_FILE=${layout.resultsFile}`);
  return env;
}

/** What the output collector may keep: the output limit, plus room for the results-file frame. */
export function collectedOutputLimit(spec: GradingSpec): number {
  return spec.limits.outputLimitBytes + (containerLayout(spec.grading).resultsFile ? FRAME_ALLOWANCE_BYTES : 0);
}

/**
 * Pure: the Docker create options for one grading attempt. Every line here is a containment measure;
 * docs/security.md says what each one stops. `imageCommand` is the image's entrypoint and command, needed
 * only when a results file is read (the grader then runs under the frame script, see results-frame.ts).
 */
export function containerOptions(
  spec: GradingSpec,
  hostId: string,
  isolation: Isolation,
  imageCommand: string[] = [],
  imageUser?: string,
  facts?: GraderFacts,
): Dockerode.ContainerCreateOptions {
  const { limits } = spec;
  const layout = containerLayout(spec.grading);
  const tmpfs = `rw,nosuid,nodev,size=${limits.tmpfsMb}m,mode=1777`;
  const command = layout.command ?? imageCommand;
  const memoryBytes = limits.memoryMb * 1024 * 1024;
  const tmpfsBytes = limits.tmpfsMb * 1024 * 1024;
  const processes = processLimits(limits.pids, isolation.runtime);
  const owner = writableRootOwner(isolation, imageUser);
  const fill = layout.writableRoot ? { from: IMAGE_COPY_DIR, to: layout.writableRoot } : undefined;
  // The writable root holds the grader's program: exec, unlike /tmp's default.
  const writableRoot = layout.writableRoot
    ? { [layout.writableRoot]: `rw,exec,nosuid,nodev,size=${limits.tmpfsMb}m,uid=${owner.uid},gid=${owner.gid}` }
    : {};
  return {
    name: containerName(spec),
    Image: spec.image,
    Env: graderEnv(spec, layout, facts),
    ...(layout.resultsFile ? { Entrypoint: wrappedEntrypoint(command, layout.resultsFile, fill), Cmd: [] } : {}),
    ...(layout.workingDir ? { WorkingDir: layout.workingDir } : {}),
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
    // A writable root's image content waits in another one (copy-image-dir.ts).
    Volumes: { [layout.submissionDir]: {}, ...(fill ? { [fill.from]: {} } : {}) },
    HostConfig: {
      NetworkMode: 'none',
      Memory: memoryBytes,
      MemorySwap: memoryBytes,
      NanoCpus: Math.round(limits.cpus * 1e9),
      PidsLimit: processes.pidsLimit,
      CapDrop: ['ALL'],
      ...(isolation.allowRoot && isolation.switchUser ? { CapAdd: SWITCH_USER_CAPS } : {}),
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': tmpfs, ...writableRoot, ...(layout.resultsDir ? { [layout.resultsDir]: tmpfs } : {}) },
      ShmSize: Math.min(tmpfsBytes, 64 * 1024 * 1024),
      IpcMode: 'private',
      Binds: [],
      Devices: [],
      AutoRemove: false,
      Ulimits: [
        { Name: 'core', Soft: 0, Hard: 0 },
        { Name: 'nofile', Soft: 256, Hard: 256 },
        { Name: 'nproc', Soft: processes.nproc, Hard: processes.nproc },
        { Name: 'fsize', Soft: tmpfsBytes, Hard: tmpfsBytes },
      ],
      // Docker keeps what the grader prints on the host's disk. The worker reads it from the first byte and
      // kills at the output limit; this bounds the disk even when no worker reads (a host restarting).
      LogConfig: { Type: 'json-file', Config: { 'max-size': `${logFileKb(collectedOutputLimit(spec))}k`, 'max-file': '1' } },
      ...(isolation.runtime ? { Runtime: isolation.runtime } : {}),
    },
  };
}
