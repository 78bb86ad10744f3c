import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, readFileSync, statSync } from 'node:fs';

/** Whether a process is alive: it exists and is not a zombie (an orphan nobody reaps yet is dead to us). */
export function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Signal `pid`, wait until it is gone; SIGKILL after `graceMs`. */
export async function killAndWait(pid: number | undefined, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!pidAlive(pid)) return;
  try {
    process.kill(pid!, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (pidAlive(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid!, 'SIGKILL');
      } catch {
        return;
      }
    }
    await pause(100);
  }
}

/**
 * Spawn a long-running child in its own process group (a Ctrl-C for the supervisor does not reach it: the
 * supervisor stops its children in order), output appended to `logFile`.
 */
export function spawnLogged(cmd: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): number {
  const out = openSync(logFile, 'a');
  const child = spawn(cmd, args, { env, stdio: ['ignore', out, out], detached: true });
  child.on('error', () => undefined); // an unstartable command shows as an exit (pidAlive false)
  if (!child.pid) throw new Error(`cannot start ${cmd}; see ${logFile}`);
  return child.pid;
}

/** Size of a file now (0 when absent): where the next run's lines start. */
export function fileSize(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

/** Wait until `ready()` holds; fail when the process exits first or after `timeoutMs`, naming the part and its log. */
export async function waitReady(
  what: string,
  pid: number,
  logFile: string,
  ready: () => Promise<boolean> | boolean,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ready()) return;
    if (!pidAlive(pid)) throw new Error(`${what} exited while starting; see ${logFile}`);
    if (Date.now() > deadline) throw new Error(`${what} did not become ready within ${timeoutMs / 1000} s; see ${logFile}`);
    await pause(200);
  }
}

/** Whether the log written since `offset` contains `text`. */
export function logHas(logFile: string, offset: number, text: string): boolean {
  try {
    return readFileSync(logFile).subarray(offset).toString('utf8').includes(text);
  } catch {
    return false;
  }
}

/**
 * Unmount `dir` when something is mounted on it. dockerd bind-mounts its data root on itself and undoes it
 * on a clean stop, but not after a SIGKILL (nor a later daemon that found the mount already there, and
 * stacked its own on it).
 */
export function unmountIfMounted(dir: string): void {
  const mounted = (): boolean =>
    readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .some((line) => line.split(' ')[1] === dir);
  // Each daemon started after a SIGKILL stacks one more: undo them all (bounded, should umount fail).
  for (let i = 0; i < 10 && mounted(); i++) spawnSync('umount', [dir]);
}
