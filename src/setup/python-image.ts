import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { say } from './paths';
import { aptInstall, dpkgInstalled, isRoot, run } from './run';

/**
 * Base image for Python graders: Debian bookworm's python3 and pytest, bootstrapped locally with debootstrap
 * from the host's Debian mirror and imported into Docker (no container registry needed).
 */
const PYTHON_IMAGE = 'gradeflow/python:3.11';

/** The label holding the digest of the recipe below: the image is rebuilt only when the recipe changes. */
const RECIPE_LABEL = 'dev.gradeflow.recipe';

const DEFAULT_MIRROR = 'http://deb.debian.org/debian';

const RECIPE = {
  // Bump when the cleanup or the files written into the root change.
  revision: 1,
  suite: 'bookworm',
  variant: 'minbase',
  packages: ['python3', 'python3-pytest'],
  // Dockerfile instructions applied at import (the recipe label is added to them).
  changes: [
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'ENV LANG=C.UTF-8',
    'ENV HOME=/tmp',
    // The root is read-only when grading: never try to write __pycache__ (nor pytest's rewritten asserts).
    'ENV PYTHONDONTWRITEBYTECODE=1',
    'WORKDIR /tmp',
    'USER 65534:65534',
    'CMD ["/usr/bin/python3"]',
  ],
} as const;

const recipeDigest = (): string => createHash('sha256').update(JSON.stringify(RECIPE)).digest('hex');

/** What a later `apt-get install` in a grader's Dockerfile leaves out, as Debian's slim images do. */
const DPKG_EXCLUDES = [
  'path-exclude=/usr/share/doc/*',
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/locale/*',
  'path-include=/usr/share/locale/locale.alias',
  'path-exclude=/usr/share/lintian/*',
].join('\n');

/** The host's Debian mirror: the first `bookworm` source of the apt configuration, else deb.debian.org. */
function debianMirror(suite: string = RECIPE.suite): string {
  const fromEnv = process.env.GRADEFLOW_DEBIAN_MIRROR;
  if (fromEnv) return fromEnv;
  const read = (file: string): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  // deb822: stanzas separated by blank lines, `Types:`, `URIs:`, `Suites:` fields.
  for (const stanza of read('/etc/apt/sources.list.d/debian.sources').split(/\n\s*\n/)) {
    const field = (name: string): string[] =>
      (stanza.match(new RegExp(`^${name}:[ \\t]*(.*)$`, 'im'))?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
    const uri = field('URIs')[0];
    if (field('Types').includes('deb') && field('Suites').includes(suite) && uri) return uri.replace(/\/+$/, '');
  }
  // One-line style: `deb [options] uri suite components…`.
  for (const line of read('/etc/apt/sources.list').split('\n')) {
    const m = line.match(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/);
    if (m && m[2] === suite) return m[1]!.replace(/\/+$/, '');
  }
  return DEFAULT_MIRROR;
}

async function imageInfo(docker: Dockerode): Promise<{ id: string; digest?: string } | undefined> {
  try {
    const info = await docker.getImage(PYTHON_IMAGE).inspect();
    return { id: info.Id, digest: info.Config.Labels?.[RECIPE_LABEL] };
  } catch {
    return undefined;
  }
}

/** Mount points at or below `dir` (debootstrap mounts /proc, /sys and in LXC binds /dev nodes), deepest first. */
function mountsUnder(dir: string): string[] {
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => unescape(line.split(' ')[1] ?? ''))
    .filter((mnt) => mnt === dir || mnt.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

/**
 * Remove the bootstrapped root. Never while something is mounted inside it: a recursive remove through a
 * bind mount of /dev would delete the host's device nodes.
 */
async function removeRoot(dir: string): Promise<void> {
  for (const mnt of mountsUnder(dir)) await run('umount', ['-l', mnt], { quiet: true }).catch(() => undefined);
  const left = mountsUnder(dir);
  if (left.length > 0) {
    say(`not removing ${dir}: still mounted there: ${left.join(', ')}`);
    return;
  }
  await rm(dir, { recursive: true, force: true });
}

/** Empty a directory of the root, keeping the directory itself. */
async function emptyDir(root: string, rel: string, keep: string[] = []): Promise<void> {
  const dir = path.join(root, rel);
  if (!existsSync(dir)) return;
  for (const name of await readdir(dir)) {
    if (!keep.includes(name)) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}

/** Keep the image small and free of the build host's traces; give it what graders rely on. */
async function finishRoot(root: string): Promise<void> {
  await emptyDir(root, 'var/lib/apt/lists', ['partial']);
  await emptyDir(root, 'var/lib/apt/lists/partial');
  await emptyDir(root, 'var/cache/apt');
  await emptyDir(root, 'var/cache/debconf', ['config.dat', 'templates.dat', 'passwords.dat']);
  await emptyDir(root, 'var/log');
  await emptyDir(root, 'usr/share/doc');
  await emptyDir(root, 'usr/share/man');
  await emptyDir(root, 'usr/share/info');
  await emptyDir(root, 'usr/share/lintian');
  // Translations; the C.UTF-8 locale itself lives in /usr/lib/locale/C.utf8 and stays.
  await emptyDir(root, 'usr/share/locale', ['locale.alias']);
  await emptyDir(root, 'usr/lib/locale', ['C.utf8']);
  for (const old of ['var/lib/dpkg/status-old', 'var/lib/dpkg/diversions-old', 'var/cache/ldconfig/aux-cache']) {
    await rm(path.join(root, old), { force: true });
  }
  // The build host's name and resolver (Docker supplies its own at run time).
  await writeFile(path.join(root, 'etc/hostname'), 'localhost\n');
  await writeFile(path.join(root, 'etc/resolv.conf'), '');
  await writeFile(path.join(root, 'etc/dpkg/dpkg.cfg.d/gradeflow-nodoc'), DPKG_EXCLUDES + '\n');

  await mkdir(path.join(root, 'tmp'), { recursive: true });
  await chmod(path.join(root, 'tmp'), 0o1777);
  await mkdir(path.join(root, 'autograder'), { recursive: true });
  await chmod(path.join(root, 'autograder'), 0o755);
  const passwd = readFileSync(path.join(root, 'etc/passwd'), 'utf8');
  if (!/^nobody:x:65534:65534:/m.test(passwd)) {
    await writeFile(path.join(root, 'etc/passwd'), passwd + 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
  }
  const group = readFileSync(path.join(root, 'etc/group'), 'utf8');
  if (!/^nogroup:x:65534:/m.test(group)) await writeFile(path.join(root, 'etc/group'), group + 'nogroup:x:65534:\n');
}

/** Import a root directory as an (untagged) image through the Docker API; resolves with the image ID. */
async function importRoot(docker: Dockerode, root: string, changes: string[]): Promise<string> {
  // --one-file-system: anything still mounted inside is not the image's. /dev, /proc, /sys stay empty dirs.
  const tar = spawn('tar', ['--numeric-owner', '--one-file-system', '--exclude=./dev/*', '--exclude=./proc/*', '--exclude=./sys/*', '-C', root, '-cf', '-', '.'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tarErr = '';
  tar.stderr.on('data', (c: Buffer) => (tarErr = (tarErr + c.toString()).slice(-2000)));
  const tarDone = new Promise<void>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar of ${root} exited with ${code}: ${tarErr}`))));
  });
  const imported = (async () => {
    const stream = await docker.importImage(tar.stdout, { changes } as Record<string, unknown>);
    return new Promise<Array<{ status?: string; error?: string }>>((resolve, reject) =>
      docker.modem.followProgress(stream, (err, out) => (err ? reject(err) : resolve(out as Array<{ status?: string; error?: string }>))),
    );
  })();
  const [events] = await Promise.all([imported, tarDone]);
  const failed = events.find((e) => e.error);
  if (failed) throw new Error(`importing ${PYTHON_IMAGE} failed: ${failed.error}`);
  const id = [...events].reverse().find((e) => /^sha256:[0-9a-f]{64}$/.test(e.status ?? ''))?.status;
  if (!id) throw new Error(`importing ${PYTHON_IMAGE}: Docker did not answer with an image ID (${JSON.stringify(events).slice(0, 500)})`);
  return id;
}

/** Build PYTHON_IMAGE unless it exists with the current recipe. Needs root on Debian (debootstrap, chroot). */
export async function ensurePythonImage(docker: Dockerode): Promise<void> {
  const digest = recipeDigest();
  const current = await imageInfo(docker);
  if (current?.digest === digest) return;
  if (!isRoot() || !existsSync('/etc/debian_version')) {
    throw new Error(`building ${PYTHON_IMAGE} needs root on Debian (debootstrap of ${RECIPE.suite} with ${RECIPE.packages.join(', ')})`);
  }
  if (!dpkgInstalled('debootstrap')) {
    say('installing debootstrap from Debian (once)…');
    await aptInstall(['debootstrap']);
  }
  const mirror = debianMirror();
  say(`building ${PYTHON_IMAGE} with debootstrap from ${mirror} (once, ~4 min)…`);
  const started = Date.now();
  // /var/tmp, not /tmp: a tmpfs /tmp may be noexec or nodev, and the root is ~270 MB before cleaning.
  const root = await mkdtemp('/var/tmp/gradeflow-python-');
  let imageId: string | undefined;
  try {
    await run(
      'debootstrap',
      [`--variant=${RECIPE.variant}`, `--include=${RECIPE.packages.join(',')}`, RECIPE.suite, root, mirror],
      { quiet: true, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' } },
    );
    await finishRoot(root);
    imageId = await importRoot(docker, root, [...RECIPE.changes, `LABEL ${RECIPE_LABEL}=${digest}`]);
    const [repo, tag] = PYTHON_IMAGE.split(':') as [string, string];
    await docker.getImage(imageId).tag({ repo, tag });
    imageId = undefined; // tagged: nothing to clean up
  } finally {
    if (imageId) await docker.getImage(imageId).remove({ force: true }).catch(() => undefined);
    await removeRoot(root);
  }
  // The previous build, now untagged; kept if images built FROM it still use it.
  if (current) await docker.getImage(current.id).remove().catch(() => undefined);
  const size = (await docker.getImage(PYTHON_IMAGE).inspect()).Size;
  say(`built ${PYTHON_IMAGE} in ${Math.round((Date.now() - started) / 1000)} s (${Math.round(size / 1e6)} MB)`);
}
