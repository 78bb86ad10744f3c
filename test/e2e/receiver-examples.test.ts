import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/setup/free-port';
import { PROJECT_ROOT } from '../../src/setup/paths';
import { ensureReceiverRuntimes } from '../../src/setup/receiver-examples';
import { SCRIPT_RUNNER } from '../helpers/images';
import { useStack } from '../helpers/hooks';
import { b64file } from '../helpers/stack';

/**
 * The receivers of examples/receivers/ (Python with the `standardwebhooks` package, PHP by hand with
 * hash_hmac), each run as a platform would run it and sent a real gradeflow callback: it verifies the
 * signature, stores the result once, and refuses what does not verify.
 */
const stack = useStack('receiver-examples');

interface Running {
  url: string;
  store: string;
  stop(): Promise<void>;
}

const running: Running[] = [];

async function startExample(kind: 'python' | 'php', runtime: string): Promise<Running> {
  const port = await freePort();
  const store = mkdtempSync(path.join(os.tmpdir(), `gradeflow-receiver-${kind}-`));
  const dir = path.join(PROJECT_ROOT, 'examples', 'receivers', kind);
  const args = kind === 'python' ? [path.join(dir, 'receiver.py')] : ['-S', `127.0.0.1:${port}`, path.join(dir, 'receiver.php')];
  const child: ChildProcess = spawn(runtime, args, {
    cwd: dir,
    env: { PATH: process.env.PATH, GRADEFLOW_WEBHOOK_SECRET: stack.secret, PORT: String(port), STORE_DIR: store },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const url = `http://127.0.0.1:${port}/callback`;
  // Listening: any answer to a GET (404) will do.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the ${kind} receiver exited: ${output}`);
    const up = await fetch(url).then(() => true, () => false);
    if (up) break;
    if (Date.now() > deadline) throw new Error(`the ${kind} receiver did not listen: ${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const r: Running = {
    url,
    store,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((done) => child.once('exit', done));
      }
      rmSync(store, { recursive: true, force: true });
    },
  };
  running.push(r);
  return r;
}

const stored = (r: Running): Array<{ webhook_id: string; body: Record<string, any> }> =>
  readdirSync(r.store).map((f) => JSON.parse(readFileSync(path.join(r.store, f), 'utf8')) as { webhook_id: string; body: Record<string, any> });

/** POST a body with these Standard Webhooks headers. */
const send = (url: string, body: string, headers: Record<string, string>) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then((res) => res.status);

/** Headers signed with the platform's secret (the reference library), at `at`. */
function signed(id: string, body: string, at = new Date()): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(stack.secret).sign(id, at, body) };
}

let runtimes: Awaited<ReturnType<typeof ensureReceiverRuntimes>>;

beforeAll(async () => {
  runtimes = await ensureReceiverRuntimes();
}, 600_000);

afterAll(async () => {
  for (const r of running) await r.stop();
});

describe.each(['python', 'php'] as const)('the %s receiver example', (kind) => {
  let receiver: Running;

  beforeAll(async () => {
    receiver = await startExample(kind, runtimes[kind]);
  });

  it('verifies and stores a real gradeflow callback', async () => {
    const workId = `rx-${kind}-${Date.now().toString(36)}`;
    const res = await stack.post({ image: SCRIPT_RUNNER, work_id: workId, callback: receiver.url, file: b64file('grade.sh', 'echo \'{"success": true, "grade": 7}\'') });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const id = res.body.id as string;
    // Completed: the receiver answered the callback 2xx.
    const done = await stack.waitFor(id, (b) => b.status === 'completed' || b.status === 'failed');
    expect(done.status).toBe('completed');
    expect(done.attempts[0].delivery).toMatchObject({ status: 'delivered' });
    const kept = stored(receiver);
    expect(kept).toHaveLength(1);
    expect(kept[0]!.webhook_id).toBe(`msg_${id}_1`);
    expect(kept[0]!.body).toMatchObject({ success: true, grade: 7, work_id: workId, submission_id: id, attempt: 1 });
  });

  it('keeps a message re-sent under the same webhook-id once, and takes any of several signatures', async () => {
    const body = JSON.stringify({ success: true, work_id: `dup-${kind}`, grade: 1, submission_id: 'x', attempt: 1, comments: [], tests: [] });
    const headers = signed(`msg_dup_${kind}`, body);
    expect(await send(receiver.url, body, headers)).toBe(204);
    expect(await send(receiver.url, body, headers)).toBe(204);
    // A rotation: one signature from an old secret, one from the current.
    const rotated = signed(`msg_rot_${kind}`, body);
    rotated['webhook-signature'] = `v1,${Buffer.alloc(32, 1).toString('base64')} ${rotated['webhook-signature']}`;
    expect(await send(receiver.url, body, rotated)).toBe(204);
    expect(stored(receiver).filter((s) => s.webhook_id === `msg_dup_${kind}`)).toHaveLength(1);
    expect(stored(receiver).filter((s) => s.webhook_id === `msg_rot_${kind}`)).toHaveLength(1);
  });

  it('refuses a tampered body, a signature of another secret, and a stale timestamp; stores none of them', async () => {
    const before = stored(receiver).length;
    const body = JSON.stringify({ success: true, work_id: `t-${kind}`, grade: 2, submission_id: 'y', attempt: 1, comments: [], tests: [] });
    const headers = signed(`msg_tamper_${kind}`, body);
    expect(await send(receiver.url, body.replace('"grade":2', '"grade":20'), headers)).toBe(400);
    const other = new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`);
    const now = new Date();
    expect(await send(receiver.url, body, { ...headers, 'webhook-signature': other.sign(`msg_tamper_${kind}`, now, body), 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)) })).toBe(400);
    expect(await send(receiver.url, body, signed(`msg_stale_${kind}`, body, new Date(Date.now() - 10 * 60_000)))).toBe(400);
    expect(await send(receiver.url, body, { 'webhook-id': `msg_none_${kind}` })).toBe(400);
    expect(stored(receiver)).toHaveLength(before);
  });
});
