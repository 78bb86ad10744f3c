/** `gradeflow regrade`: start an assignment regrade through the API and follow it to the end. */

export interface RegradeCliOptions {
  assignment: string;
  api: string;
  apiKey: string;
  image?: string;
  scope?: string;
  student?: string[];
  reason?: string;
  updateAssignment?: boolean;
  /** How often progress is read, ms. */
  interval?: string;
}

interface Progress {
  status: string;
  total: number | null;
  done: number;
  failed: number;
  running: number;
  changed: number;
  paused: boolean;
  finished: boolean;
}

async function call(opts: RegradeCliOptions, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(new URL(path, opts.api), {
    method,
    headers: { authorization: `Bearer ${opts.apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const parsed = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  if (!res.ok) {
    const error = parsed.error as { message?: string } | undefined;
    throw new Error(`${method} ${path} answered ${res.status}: ${error?.message ?? text}`);
  }
  return parsed;
}

const WIDTH = 30;

/** `[#######·······] 12/40  running 4  failed 0  changed 3`: one line, redrawn in place on a terminal. */
function progressLine(p: Progress): string {
  const total = p.total ?? 0;
  const ended = p.done + p.failed;
  const filled = total > 0 ? Math.round((ended / total) * WIDTH) : 0;
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}]`;
  return `${bar} ${ended}/${p.total ?? '?'}  running ${p.running}  failed ${p.failed}  changed ${p.changed}${p.paused ? '  (paused)' : ''}`;
}

function summaryLine(p: Progress): string {
  return `regraded ${p.done}, changed grade ${p.changed}, failed ${p.failed}${p.status === 'completed' ? '' : ` (${p.status})`}`;
}

/** Start the regrade, show its progress until it ends, print the summary; exit code 1 when some failed or it did not complete. */
export async function runRegrade(opts: RegradeCliOptions): Promise<void> {
  const out = process.stdout;
  const tty = out.isTTY === true;
  const started = await call(opts, 'POST', `/v1/assignments/${encodeURIComponent(opts.assignment)}/regrade`, {
    ...(opts.image ? { image: opts.image } : {}),
    ...(opts.scope ? { scope: opts.scope } : {}),
    ...(opts.student?.length ? { student_ids: opts.student } : {}),
    ...(opts.reason ? { reason: opts.reason } : {}),
    ...(opts.updateAssignment ? { update_assignment: true } : {}),
  });
  const id = started.regrade_id as string;
  out.write(`regrade ${id} started (workflow ${String(started.workflow_id)})\n`);
  const interval = Number(opts.interval ?? 1000);
  let last = '';
  for (;;) {
    const p = (await call(opts, 'GET', `/v1/regrades/${id}`)) as unknown as Progress;
    const line = progressLine(p);
    if (tty) out.write(`\r${line}\u001b[K`);
    else if (line !== last) out.write(`${line}\n`);
    last = line;
    if (p.finished || p.status !== 'running') {
      if (tty) out.write('\n');
      out.write(`${summaryLine(p)}\n`);
      if (p.failed > 0 || p.status !== 'completed') process.exitCode = 1;
      return;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
