import http from 'node:http';
import https from 'node:https';
import type { GitHttpResponse, HttpClient } from 'isomorphic-git';
import nodeHttp from 'isomorphic-git/http/node';
import { guardedLookup } from '../security/callback-url';

/** More bytes from the git server than the configured cap: the fetch ends. */
export class FetchTooLarge extends Error {
  constructor(limit: number) {
    super(`the git server sent more than ${limit} bytes`);
    this.name = 'FetchTooLarge';
  }
}

async function* capped(body: AsyncIterableIterator<Uint8Array>, counter: { bytes: number }, limit: number): AsyncIterableIterator<Uint8Array> {
  for await (const chunk of body) {
    counter.bytes += chunk.byteLength;
    if (counter.bytes > limit) throw new FetchTooLarge(limit);
    yield chunk;
  }
}

/**
 * isomorphic-git's Node HTTP client under the callbacks' SSRF rules: every connection resolves its host
 * through `guardedLookup` (a name re-pointed at a private address after the check is refused at connect
 * time), redirects are not followed, every request shares one deadline, and the bytes received over the
 * whole fetch are capped. IP-literal hosts never reach a lookup: the caller checks the URL first
 * (`checkCallbackUrl`).
 */
export function guardedGitHttp(opts: { allowLoopback: boolean; signal: AbortSignal; maxBytes: number }): HttpClient {
  const lookup = guardedLookup(opts.allowLoopback);
  const agents = { http: new http.Agent({ lookup }), https: new https.Agent({ lookup }) };
  const counter = { bytes: 0 };
  return {
    async request(req): Promise<GitHttpResponse> {
      const agent = req.url.startsWith('https:') ? agents.https : agents.http;
      const res = await nodeHttp.request({ ...req, agent, signal: opts.signal, fetchOptions: { followRedirects: false } } as Parameters<typeof nodeHttp.request>[0]);
      return res.body ? { ...res, body: capped(res.body, counter, opts.maxBytes) } : res;
    },
  };
}
