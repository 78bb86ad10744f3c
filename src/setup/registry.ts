import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { aptInstall, dpkgInstalled, isRoot, which } from './run';

/**
 * A course registry for tests and local trials: Debian's `docker-registry` (Docker Distribution 2.8) on a
 * loopback port, with its own config and storage directory, optionally behind htpasswd (bcrypt) auth.
 * Docker daemons accept `127.0.0.1:*` registries without TLS.
 */

export interface RegistryAuth {
  username: string;
  password: string;
}

export interface RunningRegistry {
  /** `127.0.0.1:PORT`, the domain image references name. */
  address: string;
  pid: number;
  logFile: string;
  /** The registry's log (one line per request among them), for tests that count pulls. */
  log(): string;
  /** Stop it (SIGTERM, then SIGKILL); its storage directory stays, so a registry started again on it has the same images. */
  stop(): Promise<void>;
}

const REGISTRY_BIN = '/usr/bin/docker-registry';

async function ensureInstalled(auth: boolean): Promise<void> {
  const missing = [
    ...(which('docker-registry') ? [] : ['docker-registry']),
    ...(auth && !dpkgInstalled('apache2-utils') ? ['apache2-utils'] : []),
  ];
  if (missing.length === 0) return;
  if (!isRoot()) throw new Error(`the course registry needs Debian's ${missing.join(', ')}: apt-get install -y ${missing.join(' ')}`);
  await aptInstall(missing);
}

/** A bcrypt htpasswd line, as Distribution's htpasswd auth reads (only bcrypt). */
function htpasswdLine(auth: RegistryAuth): string {
  const r = spawnSync('htpasswd', ['-nbB', auth.username, auth.password], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
  return r.stdout.trim();
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Start a registry on 127.0.0.1:`port`, storing under `dir` (created; kept by `stop`). `detached`: in its
 * own process group (a supervisor's Ctrl-C does not reach it; the supervisor stops it).
 */
export async function startRegistry(opts: { port: number; dir: string; auth?: RegistryAuth; detached?: boolean }): Promise<RunningRegistry> {
  await ensureInstalled(opts.auth !== undefined);
  mkdirSync(path.join(opts.dir, 'storage'), { recursive: true });
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: false',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(path.join(opts.dir, 'storage'))}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${opts.port}`,
  ];
  if (opts.auth) {
    const file = path.join(opts.dir, 'htpasswd');
    writeFileSync(file, `${htpasswdLine(opts.auth)}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: gradeflow-course-registry', `    path: ${JSON.stringify(file)}`);
  }
  const config = path.join(opts.dir, 'config.yml');
  writeFileSync(config, `${lines.join('\n')}\n`);
  const logFile = path.join(opts.dir, 'registry.log');
  const out = openSync(logFile, 'a');
  const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', out, out], detached: opts.detached ?? false });
  closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    if (await answers(opts.port)) break;
    if (child.exitCode !== null || i > 100) {
      child.kill('SIGKILL');
      throw new Error(`the registry did not start on 127.0.0.1:${opts.port}: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address: `127.0.0.1:${opts.port}`,
    pid: child.pid!,
    logFile,
    log: () => readFileSync(logFile, 'utf8'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Docker's stream of a push or pull, read to its end; throws the first error it reports. Answers the push's digest, if any. */
function readProgress(docker: Dockerode, stream: NodeJS.ReadableStream): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let digest: string | undefined;
    docker.modem.followProgress(
      stream,
      (err: Error | null) => (err ? reject(err) : resolve(digest)),
      (e: { error?: string; errorDetail?: { message?: string }; aux?: { Digest?: string } }) => {
        if (e.error || e.errorDetail) reject(new Error(e.errorDetail?.message ?? e.error));
        if (e.aux?.Digest) digest = e.aux.Digest;
      },
    );
  });
}

/**
 * Tag a local image as `target` (`127.0.0.1:PORT/course/example-sum:1`) and push it; answers the
 * manifest digest the registry stored. The local tag `target` stays (remove it to make hosts pull).
 */
export async function pushImage(docker: Dockerode, source: string, target: string, auth?: RegistryAuth): Promise<string> {
  const colon = target.lastIndexOf(':');
  const [repo, tag] = colon > target.lastIndexOf('/') ? [target.slice(0, colon), target.slice(colon + 1)] : [target, 'latest'];
  await docker.getImage(source).tag({ repo, tag });
  const serveraddress = target.slice(0, target.indexOf('/'));
  // Docker wants an X-Registry-Auth header on every push, credentials or not.
  const stream = (await docker.getImage(target).push({ authconfig: auth ? { ...auth, serveraddress } : { serveraddress } })) as NodeJS.ReadableStream;
  const digest = await readProgress(docker, stream);
  if (!digest) throw new Error(`pushing ${target} reported no digest`);
  return digest;
}
