import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { pinTree, reniceTree, splitCores } from '../../bench/placement';

const allowedCpus = (pid: number) => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
const nice = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);

/** A shell with a child of its own: [shell pid, child pid]. */
async function family(): Promise<{ pids: [number, number] }> {
  const shell = spawn('sh', ['-c', 'sleep 30 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const child = await new Promise<number>((resolve) => shell.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  return { pids: [shell.pid!, child] };
}

describe('bench placement (--split-cores, --control-nice)', () => {
  let started: number[] = [];
  afterEach(() => {
    for (const pid of started.reverse()) process.kill(pid, 'SIGKILL');
    started = [];
  });

  it('gives the control plane CPU 0 and grading the others', () => {
    const n = os.cpus().length;
    expect(splitCores()).toEqual({ control: '0', grading: n === 2 ? '1' : `1-${n - 1}`, all: `0-${n - 1}` });
  });

  it('pins a process and its descendants to the given CPUs, and back', async () => {
    const f = await family();
    started = [...f.pids];
    const { grading, all } = splitCores();
    pinTree(f.pids[0], grading);
    expect(f.pids.map(allowedCpus)).toEqual([grading, grading]);
    pinTree(f.pids[0], all);
    expect(f.pids.map(allowedCpus)).toEqual([all, all]);
  });

  it('renices a process and its descendants', async () => {
    const f = await family();
    started = [...f.pids];
    reniceTree(f.pids[0], 7);
    expect(f.pids.map(nice)).toEqual([7, 7]);
  });
});
