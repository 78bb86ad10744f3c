import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * What else the machine was doing during a measurement: the 1-minute load average (sampled every 2 s) and
 * the cores busy from /proc/stat, split into niced time (the bench runs niced, and everything it starts
 * inherits that: cluster, daemons, containers) and the rest (mostly other people's work on shared cores).
 */
export interface MachineLoad {
  seconds: number;
  load1: { mean: number; max: number };
  /** Average cores busy over the window, all of them, and of those the niced ones. */
  coresBusy: number;
  coresBusyNiced: number;
}

function cpuTicks(): { busy: number; nice: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields as [number, number, number, number, number, number, number, number];
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: total - idle - iowait, nice, total };
}

const r2 = (n: number) => Math.round(n * 100) / 100;

export class LoadWatch {
  private readonly begin = performance.now();
  private readonly ticks = cpuTicks();
  private readonly samples: number[] = [os.loadavg()[0]!];
  private readonly timer = setInterval(() => this.samples.push(os.loadavg()[0]!), 2000);

  stop(): MachineLoad {
    clearInterval(this.timer);
    const now = cpuTicks();
    const seconds = (performance.now() - this.begin) / 1000;
    // USER_HZ ticks summed over all CPUs: ticks / 100 / seconds = cores busy.
    const cores = (ticks: number) => r2(ticks / 100 / seconds);
    return {
      seconds: Math.round(seconds),
      load1: { mean: r2(this.samples.reduce((a, b) => a + b, 0) / this.samples.length), max: r2(Math.max(...this.samples)) },
      coresBusy: cores(now.busy - this.ticks.busy),
      coresBusyNiced: cores(now.nice - this.ticks.nice),
    };
  }
}
