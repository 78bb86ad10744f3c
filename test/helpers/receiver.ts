import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedCallback {
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: Record<string, unknown>;
  /** Whether the Standard Webhooks signature verified with the platform's secret. */
  verified: boolean;
  /** 0 for a request left unanswered (`/hang…`). */
  answeredStatus: number;
  /** When the request's body had arrived (ms since the epoch). */
  at: number;
  /** The same moment on `performance.now()`'s clock, to compare with send times taken on it (the bench's latencies). */
  atPerf: number;
}

/** One TCP connection the receiver accepted, and what happened on it. */
export interface ReceivedConnection {
  openedAt: number;
  closedAt?: number;
  /** The request's path, once its headers came. */
  path?: string;
  /** When the status line was sent (never for `/hang…`). */
  answeredAt?: number;
}

export interface ReceiverOptions {
  /** `/drip…` paths: one body byte every this many ms after the 200's headers, never ending. */
  dripEveryMs?: number;
  /** How long an idle kept-alive connection stays open (Node's default: 5 s; the bench keeps them 30 s). */
  keepAliveTimeoutMs?: number;
}

/** One message as it arrived for a work_id: tells a re-sent message (same webhook-id) from a second grading. */
export interface ArrivedMessage {
  webhookId: string;
  attempt: number;
}

/**
 * The platform's side, for the tests and the bench: a real HTTP callback receiver on 127.0.0.1 that
 * verifies signatures and notes when each callback (by work_id) arrived. `failNext(n)` answers 503 n times;
 * `down()`/`up()` close and reopen the port (connection refused in between).
 *
 * Hostile paths: `/drip…` answers 200 with its headers at once, then trickles its body one byte every
 * `dripEveryMs`, never ending; `/hang…` reads the request and never answers; `/gone…` answers 410 Gone. Every connection is counted
 * (`connections`, `openConnections()`, `maxOpenConnections()`), with when it opened, was answered and closed.
 */
export async function startReceiver(secret: string, port = 0, options: ReceiverOptions = {}) {
  const received: ReceivedCallback[] = [];
  const waiters: Array<() => void> = [];
  let failures = 0;
  const webhook = new Webhook(secret);
  const connections: ReceivedConnection[] = [];
  const bySocket = new WeakMap<object, ReceivedConnection>();
  let open = 0;
  let maxOpen = 0;
  /** Per work_id: arrival times (`performance.now()`) and messages, in order; and who waits for the first. */
  const arrivals = new Map<string, number[]>();
  const messages = new Map<string, ArrivedMessage[]>();
  const arrivalWaiters = new Map<string, Array<(at: number) => void>>();
  const noteArrival = (body: Record<string, unknown>, webhookId: unknown, atPerf: number): void => {
    if (body.work_id === undefined) return; // not a callback
    const workId = String(body.work_id);
    arrivals.set(workId, [...(arrivals.get(workId) ?? []), atPerf]);
    messages.set(workId, [...(messages.get(workId) ?? []), { webhookId: String(webhookId), attempt: Number(body.attempt) }]);
    for (const w of arrivalWaiters.get(workId) ?? []) w(atPerf);
    arrivalWaiters.delete(workId);
  };
  const server = http.createServer((req, res) => {
    const conn = bySocket.get(req.socket);
    if (conn) conn.path = req.url ?? '';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let verified = false;
      try {
        webhook.verify(raw, req.headers as Record<string, string>);
        verified = true;
      } catch {
        verified = false;
      }
      const path = req.url ?? '';
      const hostile = path.startsWith('/drip') ? 'drip' : path.startsWith('/hang') ? 'hang' : undefined;
      const gone = path.startsWith('/gone');
      const status = hostile === 'hang' ? 0 : hostile === 'drip' ? 200 : gone ? 410 : failures > 0 ? 503 : 204;
      if (!hostile && !gone && failures > 0) failures--;
      const at = Date.now();
      const atPerf = performance.now();
      const body = parseBody(raw);
      received.push({ headers: req.headers, raw, body, verified, answeredStatus: status, at, atPerf });
      noteArrival(body, req.headers['webhook-id'], atPerf);
      if (hostile === 'drip') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.flushHeaders();
        if (conn) conn.answeredAt = Date.now();
        const drip = setInterval(() => res.write('.'), options.dripEveryMs ?? 2000);
        res.on('close', () => clearInterval(drip));
      } else if (hostile !== 'hang') {
        res.statusCode = status;
        res.end();
        if (conn) conn.answeredAt = Date.now();
      }
      waiters.splice(0).forEach((w) => w());
    });
  });
  server.on('connection', (socket) => {
    const conn: ReceivedConnection = { openedAt: Date.now() };
    connections.push(conn);
    bySocket.set(socket, conn);
    open++;
    maxOpen = Math.max(maxOpen, open);
    socket.on('close', () => {
      conn.closedAt = Date.now();
      open--;
    });
  });
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  const listen = (p: number) => new Promise<number>((resolve) => server.listen(p, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  const boundPort = await listen(port);
  return {
    url: (path = '/callback') => `http://127.0.0.1:${boundPort}${path}`,
    received,
    accepted: () => received.filter((r) => r.answeredStatus >= 200 && r.answeredStatus < 300),
    /** Per work_id, when each of its callbacks arrived (`performance.now()`). */
    arrivals,
    /** Per work_id, the `webhook-id` and `attempt` of each of its callbacks. */
    messages,
    /** Resolves with the arrival time (`performance.now()`) of the first callback for `workId`. */
    arrival(workId: string): Promise<number> {
      const seen = arrivals.get(workId);
      if (seen) return Promise.resolve(seen[0]!);
      return new Promise((resolve) => arrivalWaiters.set(workId, [...(arrivalWaiters.get(workId) ?? []), resolve]));
    },
    connections,
    openConnections: () => open,
    maxOpenConnections: () => maxOpen,
    /** Forget the highest count of open connections seen so far (a measurement starts again from now). */
    resetMaxOpenConnections() {
      maxOpen = open;
    },
    failNext(n: number) {
      failures = n;
    },
    down: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
    up: () => listen(boundPort).then(() => undefined),
    /** Resolves once `predicate` holds over what has been received (polled on every arrival). */
    async waitFor(predicate: (r: ReceivedCallback[]) => boolean, timeoutMs = 30_000): Promise<ReceivedCallback[]> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`callbacks did not arrive in time; got ${JSON.stringify(received.map((r) => r.body))}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, 500));
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return received;
    },
    /** The first callback matching `match`, once it has arrived. */
    async waitForOne(match: (r: ReceivedCallback) => boolean, timeoutMs = 30_000): Promise<ReceivedCallback> {
      const all = await this.waitFor((r) => r.some(match), timeoutMs);
      return all.find(match)!;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A callback's JSON body; anything else (not a callback) as an empty object. */
function parseBody(raw: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(raw);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
