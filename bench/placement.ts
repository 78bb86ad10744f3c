import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { ProcessPlacement } from '../test/helpers/process-stack';
import { processTree } from './measure';

/**
 * Where the bench's processes run on this machine's cores: at a lower priority (`--control-nice`) or on
 * cores of their own (`--split-cores`). Linux keeps both per thread, and a new thread or child process
 * inherits them from the one that made it.
 */

/** Every thread of `pid` and of its descendants (those alive now). */
function threadsOfTree(pid: number): number[] {
  return processTree(pid).flatMap((p) => {
    try {
      return readdirSync(`/proc/${p}/task`).map(Number);
    } catch {
      return []; // gone meanwhile
    }
  });
}

/** `pid` and its descendants, every thread, at nice `nice`. */
export function reniceTree(pid: number, nice: number): void {
  for (const tid of threadsOfTree(pid)) spawnSync('renice', ['-n', String(nice), '-p', String(tid)], { stdio: 'ignore' });
}

/** `pid` and its descendants, every thread, allowed only on `cpus` (taskset's list form, e.g. "1-3"). */
export function pinTree(pid: number, cpus: string): void {
  for (const tid of threadsOfTree(pid)) spawnSync('taskset', ['-p', '-c', cpus, String(tid)], { stdio: 'ignore' });
}

export interface CoreSplit {
  /** Control plane: API, Temporal, PostgreSQL, and the bench itself (the platform's side). */
  control: string;
  /** Grading path: the grading host, dockerd, containerd and (inheriting it) every container. */
  grading: string;
  all: string;
}

/** CPU 0 for the control plane, the others for grading (a course runs them on different machines). */
export function splitCores(): CoreSplit {
  const n = os.cpus().length;
  if (n < 2) throw new Error('--split-cores needs at least 2 CPUs');
  return { control: '0', grading: n === 2 ? '1' : `1-${n - 1}`, all: `0-${n - 1}` };
}

/** The local dockerd's PID (its containerd is its child), from the pidfile it writes. */
export function dockerdPid(): number {
  if (process.env.DOCKER_HOST) throw new Error('--split-cores places the local dockerd; unset DOCKER_HOST');
  try {
    return Number(readFileSync('/var/run/docker.pid', 'utf8').trim());
  } catch (err) {
    throw new Error(`--split-cores needs the local dockerd's pidfile /var/run/docker.pid: ${(err as Error).message}`);
  }
}

/** The placement the bench's options ask for, applied to the process stack as it starts, and undone by `restore`. */
export interface BenchPlacement extends ProcessPlacement {
  /** Give this process and dockerd every CPU again (after the stack has stopped). */
  restore(): void;
}

/**
 * --split-cores: the control plane (and this process, the platform's side) on CPU 0; the grading path on
 * the others. Applied at once to this process, so the children started from here inherit CPU 0; dockerd
 * now, and each grading host as it starts, are moved.
 * --control-nice: the control plane (API, Temporal, PostgreSQL) at a lower CPU priority than the grading
 * path (grading host, dockerd, containers), to see whether grading first helps on a shared machine.
 */
export function placeProcesses(opts: { controlNice?: number; splitCores?: boolean }): BenchPlacement {
  const split = opts.splitCores ? splitCores() : undefined;
  const dockerd = split ? dockerdPid() : 0;
  if (split) {
    pinTree(process.pid, split.control);
    pinTree(dockerd, split.grading);
  }
  return {
    controlPlane(pids) {
      if (opts.controlNice) for (const pid of pids) reniceTree(pid, opts.controlNice);
    },
    worker(pid) {
      if (split) pinTree(pid, split.grading);
    },
    restore() {
      if (split) {
        pinTree(dockerd, split.all);
        pinTree(process.pid, split.all);
      }
    },
  };
}
