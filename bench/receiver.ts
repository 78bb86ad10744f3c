import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The platform's side: a loopback callback receiver that notes when each work_id's result arrives. */
export async function startBenchReceiver() {
  const arrivals = new Map<string, number[]>();
  /** Per work_id, the `webhook-id` and `attempt` of each arrival: tells a re-sent message from a second grading. */
  const messages = new Map<string, Array<{ webhookId: string; attempt: number }>>();
  const waiters = new Map<string, Array<(t: number) => void>>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      res.statusCode = 204;
      res.end();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { work_id: unknown; attempt: unknown };
        const workId = String(body.work_id);
        arrivals.set(workId, [...(arrivals.get(workId) ?? []), at]);
        messages.set(workId, [...(messages.get(workId) ?? []), { webhookId: String(req.headers['webhook-id']), attempt: Number(body.attempt) }]);
        for (const w of waiters.get(workId) ?? []) w(at);
        waiters.delete(workId);
      } catch {
        // not a callback
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  return {
    url,
    arrivals,
    messages,
    /** Resolves with the arrival time of the first callback for `workId`. */
    arrival(workId: string): Promise<number> {
      const seen = arrivals.get(workId);
      if (seen) return Promise.resolve(seen[0]!);
      return new Promise((resolve) => waiters.set(workId, [...(waiters.get(workId) ?? []), resolve]));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type BenchReceiver = Awaited<ReturnType<typeof startBenchReceiver>>;
