import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Dockerode from 'dockerode';
import { say, TOOLS_DIR } from './paths';
import { aptInstall, dpkgInstalled, isRoot, which } from './run';

/** Debian packages gradeflow's local set-up relies on: the engine, gVisor, and a static busybox for base images. */
const DEBIAN_PACKAGES = ['docker.io', 'runsc', 'busybox-static'];

async function answers(docker: Dockerode): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

/**
 * dockerd's settings, written to `dir/daemon.json`: gVisor registered as `runsc` when installed, with its
 * own network off (the daemon has no bridge). Also for the daemons of `gradeflow cluster`.
 */
export function daemonConfig(dir = path.join(TOOLS_DIR, 'docker')): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'daemon.json');
  const runsc = which('runsc');
  const config = runsc ? { runtimes: { runsc: { path: runsc, runtimeArgs: ['--network=none'] } } } : {};
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/**
 * Make sure a Docker engine answers. With DOCKER_HOST set, only check it. Otherwise, on Debian as root,
 * install what is missing and start dockerd (no bridge, no iptables: grading containers have no network).
 * It keeps running after we exit, as a system daemon does.
 */
export async function ensureDocker(): Promise<Dockerode> {
  const docker = new Dockerode();
  if (await answers(docker)) return docker;
  if (process.env.DOCKER_HOST) {
    throw new Error(`no Docker engine answers at DOCKER_HOST=${process.env.DOCKER_HOST}`);
  }
  const debian = existsSync('/etc/debian_version');
  if (!debian || !isRoot()) {
    throw new Error(
      'no Docker engine answers at /var/run/docker.sock. Install and start Docker (https://docs.docker.com/engine/install/), ' +
        'or set DOCKER_HOST. On Debian as root, gradeflow installs and starts it by itself.',
    );
  }
  const missing = DEBIAN_PACKAGES.filter((p) => !dpkgInstalled(p));
  if (missing.length) {
    say(`installing ${missing.join(', ')} from Debian (once)…`);
    await aptInstall(missing);
  }
  const log = path.join(TOOLS_DIR, 'docker', 'dockerd.log');
  const config = daemonConfig();
  say(`starting dockerd (log: ${log})…`);
  const out = openSync(log, 'a');
  const child = spawn(
    'dockerd',
    ['--bridge=none', '--iptables=false', '--ip6tables=false', `--config-file=${config}`],
    { detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  for (let i = 0; i < 120; i++) {
    if (await answers(docker)) {
      say(`dockerd is up (pid ${child.pid})`);
      return docker;
    }
    if (child.exitCode !== null) throw new Error(`dockerd exited with ${child.exitCode}; see ${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`dockerd did not answer within 30 s; see ${log}`);
}
