import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import tar from 'tar-stream';
import { PROJECT_ROOT, say } from './paths';
import { ensurePythonImage } from './python-image';
import { aptInstall, dpkgInstalled, isRoot } from './run';

const CONTEXT_LABEL = 'dev.gradeflow.context';

/** Base image: FROM scratch with Debian's static busybox, built locally (no registry needed). */
export const BUSYBOX_IMAGE = 'gradeflow/busybox:1';
const STATIC_BUSYBOX = '/bin/busybox';

/** An image gradeflow builds from a directory of the repository. */
export interface LocalImage {
  tag: string;
  dir: string;
}

/**
 * The example graders in examples/, one per result format, by format. Bump a tag when its example changes
 * what it does (:2, the examples that resist forgery): images are rebuilt when their context changes, but
 * worktrees or checkouts sharing one Docker daemon would otherwise rebuild one tag back and forth.
 */
export const EXAMPLE_IMAGE_TAGS = {
  correctomatic: 'gradeflow/example-sum:2',
  gitlab: 'gradeflow/example-gitlab:2',
  tap: 'gradeflow/example-tap:2',
  gradescope: 'gradeflow/example-gradescope:2',
  pytest: 'gradeflow/example-pytest:2',
} as const;

const EXAMPLE_DIRS: Record<keyof typeof EXAMPLE_IMAGE_TAGS, string> = {
  correctomatic: 'sum-grader',
  gitlab: 'gitlab-grader',
  tap: 'tap-grader',
  gradescope: 'gradescope-grader',
  pytest: 'pytest-grader',
};

const EXAMPLE_IMAGES: LocalImage[] = Object.entries(EXAMPLE_IMAGE_TAGS).map(([format, tag]) => ({
  tag,
  dir: path.join(PROJECT_ROOT, 'examples', EXAMPLE_DIRS[format as keyof typeof EXAMPLE_IMAGE_TAGS]),
}));

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full, base) : [path.relative(base, full)];
  });
}

/** A build context as a tar, and a digest of its contents (the image is rebuilt only when it changes). */
async function buildContext(
  files: Array<{ name: string; content: Buffer; mode: number }>,
  baseIds: string[],
): Promise<{ tarball: Buffer; digest: string }> {
  const hash = createHash('sha256');
  for (const id of baseIds) hash.update(id).update('\0');
  const pack = tar.pack();
  for (const f of files.sort((a, b) => a.name.localeCompare(b.name))) {
    hash.update(f.name).update('\0').update(f.content).update('\0');
    pack.entry({ name: f.name, mode: f.mode, mtime: new Date(0) }, f.content);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return { tarball: Buffer.concat(chunks), digest: hash.digest('hex') };
}

async function currentDigest(docker: Dockerode, tag: string): Promise<string | undefined> {
  try {
    const info = await docker.getImage(tag).inspect();
    return info.Config.Labels?.[CONTEXT_LABEL];
  } catch {
    return undefined;
  }
}

/** IDs of the local images a Dockerfile builds FROM: a rebuilt base image means rebuilding this one. */
async function baseImageIds(docker: Dockerode, dockerfile: Buffer | undefined): Promise<string[]> {
  const froms = [...(dockerfile?.toString('utf8') ?? '').matchAll(/^\s*FROM\s+(\S+)/gim)].map((m) => m[1]!);
  const ids = await Promise.all(froms.map((ref) => docker.getImage(ref).inspect().then((i) => i.Id, () => ref)));
  return ids;
}

async function build(docker: Dockerode, tag: string, files: Array<{ name: string; content: Buffer; mode: number }>): Promise<void> {
  const baseIds = await baseImageIds(docker, files.find((f) => f.name === 'Dockerfile')?.content);
  const { tarball, digest } = await buildContext(files, baseIds);
  if ((await currentDigest(docker, tag)) === digest) return;
  say(`building image ${tag}…`);
  const stream = await docker.buildImage(tarball as unknown as NodeJS.ReadableStream, {
    t: tag,
    labels: { [CONTEXT_LABEL]: digest },
    rm: true,
    forcerm: true,
  });
  const events = await new Promise<Array<{ error?: string }>>((resolve, reject) =>
    docker.modem.followProgress(stream, (err, out) => (err ? reject(err) : resolve(out as Array<{ error?: string }>))),
  );
  const failed = events.find((e) => e.error);
  if (failed) throw new Error(`building ${tag} failed: ${failed.error}`);
}

/** The base image every example grader starts FROM. */
async function ensureBaseImage(docker: Dockerode): Promise<void> {
  if (!dpkgInstalled('busybox-static')) {
    if (!isRoot() || !existsSync('/etc/debian_version')) {
      throw new Error(`building ${BUSYBOX_IMAGE} needs Debian's busybox-static package (a static ${STATIC_BUSYBOX})`);
    }
    say('installing busybox-static from Debian (once)…');
    await aptInstall(['busybox-static']);
  }
  await build(docker, BUSYBOX_IMAGE, [
    { name: 'Dockerfile', content: Buffer.from(
      'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n' +
      'RUN ["/bin/busybox", "sh", "-c", "mkdir -p /tmp /etc && chmod 1777 /tmp && echo nobody:x:65534:65534:nobody:/tmp:/bin/sh > /etc/passwd && echo nogroup:x:65534: > /etc/group"]\n' +
      'USER 65534:65534\nWORKDIR /tmp\n'), mode: 0o644 },
    { name: 'busybox', content: readFileSync(STATIC_BUSYBOX), mode: 0o755 },
  ]);
}

/** Build an image from a directory holding a Dockerfile (an example grader, a test grader). */
export async function ensureImageFromDir(docker: Dockerode, image: LocalImage): Promise<void> {
  const files = listFiles(image.dir).map((name) => {
    const full = path.join(image.dir, name);
    return { name, content: readFileSync(full), mode: statSync(full).mode & 0o777 };
  });
  await build(docker, image.tag, files);
}

/**
 * The base images, then the example graders and `extra`. The base images come first: a grader FROM one of
 * them is rebuilt when it is rebuilt (baseImageIds hashes the ID it finds for each FROM).
 */
export async function ensureImages(docker: Dockerode, extra: LocalImage[] = []): Promise<void> {
  await ensureBaseImage(docker);
  await ensurePythonImage(docker);
  for (const image of [...EXAMPLE_IMAGES, ...extra]) await ensureImageFromDir(docker, image);
}
