import { readdirSync, readFileSync } from 'node:fs';

/** Small measurement helpers: percentiles, and CPU and memory of process trees from /proc. */

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface ProcStat {
  pid: number;
  ppid: number;
  cpuTicks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // utime + stime, and cutime + cstime: the CPU of children it has reaped (PostgreSQL's ended backends,
    // a server's ended helpers) stays in the tree's count when they leave it.
    const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]));
    return { pid, ppid: Number(fields[1]), cpuTicks: utime! + stime! + cutime! + cstime! };
  } catch {
    return undefined;
  }
}

function allStats(): ProcStat[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readStat(Number(d)))
    .filter((s): s is ProcStat => s !== undefined);
}

/** A process and all its descendants (e.g. PostgreSQL's backends under the postmaster). */
function tree(root: number, stats: ProcStat[]): ProcStat[] {
  const out: ProcStat[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    const s = stats.find((x) => x.pid === pid);
    if (s) out.push(s);
    for (const child of stats.filter((x) => x.ppid === pid)) queue.push(child.pid);
  }
  return out;
}

/** The PIDs of a process and all its descendants alive now. */
export function processTree(root: number): number[] {
  return tree(root, allStats()).map((s) => s.pid);
}

function rssKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Watches named process trees: CPU seconds between marks (only while `running`), and the peak resident
 * memory (the kernel's high-water mark for single processes, sampled sums for trees).
 */
export class ProcessWatch {
  private readonly roots = new Map<string, number>();
  private readonly cpu = new Map<string, number>();
  private readonly peakMb = new Map<string, number>();
  private marks = new Map<string, number>();
  private sampler?: NodeJS.Timeout;

  watch(name: string, pid: number): void {
    this.roots.set(name, pid);
  }

  private cpuNow(): Map<string, number> {
    const stats = allStats();
    const now = new Map<string, number>();
    for (const [name, pid] of this.roots) {
      now.set(name, tree(pid, stats).reduce((sum, s) => sum + s.cpuTicks, 0) / TICKS_PER_SECOND);
    }
    return now;
  }

  private sampleMemory(): void {
    const stats = allStats();
    for (const [name, pid] of this.roots) {
      const members = tree(pid, stats);
      const mb = members.length === 1 ? rssKb(pid, 'VmHWM') / 1024 : members.reduce((s, m) => s + rssKb(m.pid, 'VmRSS'), 0) / 1024;
      this.peakMb.set(name, Math.max(this.peakMb.get(name) ?? 0, mb));
    }
  }

  /** Start counting CPU (call around the work being measured). */
  start(): void {
    this.marks = this.cpuNow();
    this.sampler ??= setInterval(() => this.sampleMemory(), 500);
  }

  /** Stop counting CPU; adds the time since start() to each tree's total. */
  stop(): void {
    const now = this.cpuNow();
    for (const [name, value] of now) this.cpu.set(name, (this.cpu.get(name) ?? 0) + value - (this.marks.get(name) ?? value));
    this.sampleMemory();
  }

  close(): void {
    clearInterval(this.sampler);
  }

  /** CPU seconds counted so far, per tree; resets the count. */
  takeCpu(): Record<string, number> {
    const out = Object.fromEntries(this.cpu);
    this.cpu.clear();
    return out;
  }

  peaks(): Record<string, number> {
    this.sampleMemory();
    return Object.fromEntries([...this.peakMb].map(([k, v]) => [k, Math.round(v)]));
  }
}
