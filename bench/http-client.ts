import http from 'node:http';

/**
 * The bench's platform side posts through node:http with kept-alive connections: it shares the two cores
 * with gradeflow, and `fetch` costs it about three times the CPU per request (measured: ~3 ms against
 * gradeflow's own ~2.5 ms per POST), which would be charged to gradeflow's latency.
 */
// Idle sockets are closed after 30 s, before the API would close them (Fastify keeps them 72 s): a POST
// never goes out on a socket the server is closing.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 30_000 });

export function postJson(url: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; body: string }> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': String(payload.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
