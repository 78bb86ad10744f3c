import type { ClusterBenchResult } from './run-cluster';

/** The cluster bench's result as plain text: every figure next to the baseline measured in the same run. */
export function formatClusterResult(r: ClusterBenchResult): string {
  const lines: string[] = [];
  const l = r.load.throughput;
  lines.push(
    `gradeflow cluster: ${r.cluster.servers} servers, grading hosts × ${r.cluster.slotsPerHost} slots, real Temporal on PostgreSQL; ` +
      `${r.machine.cpus} CPUs; up in ${r.cluster.startS} s`,
  );
  if (l) {
    lines.push(
      `machine during the throughput cells (${l.seconds} s): load1 mean ${l.load1.mean} (max ${l.load1.max}), ` +
        `${l.coresBusy} of ${r.machine.cpus} cores busy, ${l.coresBusyNiced} of them niced (this bench)`,
    );
  }
  lines.push('', 'workload  hosts  items  raw/s   gradeflow/s  ratio  gradeflow e2e p50/p95 ms  attempts per host   control plane CPU s/grading');
  for (const c of r.cells) {
    lines.push(
      `${c.workload.padEnd(9)} ${String(c.hosts).padEnd(6)} ${String(c.items).padEnd(6)} ${String(c.raw.throughputPerS).padEnd(7)} ` +
        `${String(c.gradeflow.throughputPerS).padEnd(12)} ${String(c.ratio).padEnd(6)} ${`${c.gradeflow.p50Ms}/${c.gradeflow.p95Ms}`.padEnd(24)} ` +
        `${Object.entries(c.attemptsPerHost).map(([h, n]) => `${h} ${n}`).join(', ').padEnd(18)} ${c.cpuSecondsPerGrading.controlPlane}`,
    );
  }
  for (const s of r.scaleOut) lines.push(`scale-out ${s.workload} (2 hosts / 1 host): gradeflow ${s.gradeflow} ×, raw Docker on the same daemons ${s.raw} ×`);
  const cp = r.controlPlane;
  if (cp) {
    const c = cp.cpuSecondsPerGrading;
    lines.push(
      '',
      `control plane CPU per grading (${cp.gradings} gradings): ${c.controlPlane} s = servers ${c.servers} + workers ${c.workers} + temporal ${c.temporal} + postgres ${c.postgres}` +
        ` (grading hosts' dockerd, not counted: ${c.dockerd} s)`,
    );
  }
  if (cp?.marginalCpuSecondsPerGrading) {
    const m = cp.marginalCpuSecondsPerGrading;
    lines.push(`  less the idle background: ${m.controlPlane} s = servers ${m.servers} + workers ${m.workers} + temporal ${m.temporal} + postgres ${m.postgres}`);
  }
  if (r.idle) {
    const i = r.idle;
    lines.push(
      `idle cluster (${i.seconds} s, nothing submitted): control plane ${i.cpuCores.controlPlane} cores (servers ${i.cpuCores.servers}, workers ${i.cpuCores.workers}, ` +
        `temporal ${i.cpuCores.temporal}, postgres ${i.cpuCores.postgres}); ${i.commitsPerS} commits/s, ${i.walBytesPerS} B/s of WAL`,
    );
  }
  if (r.database) {
    const d = r.database;
    lines.push(
      `PostgreSQL per grading (${d.gradings} gradings): ${Object.entries(d.bytesPerGrading).map(([db, b]) => `${db} ${b} B`).join(', ')}; ` +
        `WAL ${d.walBytesPerGrading} B; ${d.commitsPerGrading} commits` +
        (d.marginalCommitsPerGrading !== undefined ? `; less the idle background: WAL ${d.marginalWalBytesPerGrading} B, ${d.marginalCommitsPerGrading} commits` : ''),
    );
  }
  if (r.floor) {
    const f = r.floor.cpuSecondsPerWorkflow;
    lines.push(
      `temporal floor on the same server (${r.floor.workflows} minimal workflows, ${r.floor.perS}/s): temporal ${f.temporal ?? '?'} s + postgres ${f.postgres ?? '?'} s per workflow (SDK ${f.sdk} s)`,
    );
  }
  if (cp?.ratioToFloor !== undefined) {
    lines.push(`temporal + postgres per grading ${cp.temporalAndPostgresPerGrading} s = ${cp.ratioToFloor} × the floor's ${cp.floorTemporalAndPostgresPerWorkflow} s`);
  }
  if (r.latency) {
    const x = r.latency;
    lines.push(
      '',
      `one at a time (trivial, ${x.items} each way): raw docker p50/p95 ${x.raw.p50Ms}/${x.raw.p95Ms} ms; gradeflow POST→callback ${x.gradeflow.p50Ms}/${x.gradeflow.p95Ms} ms; ` +
        `overhead p50 ${x.overheadP50Ms} ms, p95 ${x.overheadP95Ms} ms`,
    );
  }
  if (r.load.run) lines.push(`whole run: ${r.load.run.seconds} s, load1 mean ${r.load.run.load1.mean} (max ${r.load.run.load1.max}), ${r.load.run.coresBusy} cores busy`);
  return lines.join('\n');
}
