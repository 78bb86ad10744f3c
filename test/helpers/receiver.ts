import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedCallback {
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: Record<string, unknown>;
  /** Whether the Standard Webhooks signature verified with the platform's secret. */
  verified: boolean;
  answeredStatus: number;
}

/**
 * A real HTTP callback receiver on 127.0.0.1 that verifies signatures. `failNext(n)` answers 503 n times;
 * `down()`/`up()` close and reopen the port (connection refused in between).
 */
export async function startReceiver(secret: string, port = 0) {
  const received: ReceivedCallback[] = [];
  const waiters: Array<() => void> = [];
  let failures = 0;
  const webhook = new Webhook(secret);
  const server = http.createServer((req, res) => {
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
      const status = failures > 0 ? 503 : 204;
      if (failures > 0) failures--;
      received.push({ headers: req.headers, raw, body: JSON.parse(raw) as Record<string, unknown>, verified, answeredStatus: status });
      res.statusCode = status;
      res.end();
      waiters.splice(0).forEach((w) => w());
    });
  });
  const listen = (p: number) => new Promise<number>((resolve) => server.listen(p, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  const boundPort = await listen(port);
  return {
    url: (path = '/callback') => `http://127.0.0.1:${boundPort}${path}`,
    received,
    accepted: () => received.filter((r) => r.answeredStatus < 300),
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

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
