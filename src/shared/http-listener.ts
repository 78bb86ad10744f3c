import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A small HTTP listener of its own (health, metrics): where it answers, and how to stop it. */
export interface Listener {
  /** `http://<address>:<port><path>`, with the port it got (0 asks for a free one). */
  url: string;
  /** Closes open connections too (a scraper's keep-alive would hold it open). */
  close(): Promise<void>;
}

/** Start `server` on `host`:`port`; resolves once it listens, rejects if it cannot (port taken). */
export async function listen(server: http.Server, host: string, port: number, path: string): Promise<Listener> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
