import dns from 'node:dns';
import { lookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Loopback ranges, allowed only for platforms configured with allowLoopbackCallbacks (tests, one-box setups). */
export const LOOPBACK_RANGES = ['127.0.0.0/8', '::1'];

/** Why an address may not receive callbacks, or undefined when it may. */
export function forbiddenAddress(address: string, allowLoopback: boolean): string | undefined {
  if (!ipaddr.isValid(address)) return `"${address}" is not an IP address`;
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  const range = ip.range();
  if (range === 'unicast') return undefined;
  if (range === 'loopback' && allowLoopback) return undefined;
  return `${address} is a ${range} address`;
}

/**
 * Check a callback URL at intake: http(s), no credentials, and every address its host resolves to is a
 * public one (or loopback where allowed). Delivery checks again at connect time (DNS can change).
 * Returns the problem, or undefined when the URL is acceptable.
 */
export async function checkCallbackUrl(raw: string, allowLoopback: boolean): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http or https URL';
  if (url.username || url.password) return 'must not carry credentials';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (ipaddr.isValid(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      return `host "${host}" does not resolve`;
    }
  }
  for (const address of addresses) {
    const problem = forbiddenAddress(address, allowLoopback);
    if (problem) return `points to a forbidden address (${problem})`;
  }
  return undefined;
}

/**
 * A `lookup` for http.request that refuses, at connect time, every address `checkCallbackUrl` refuses,
 * so a name that resolved to a public address at intake cannot be re-pointed inside (DNS rebinding).
 * IP-literal hosts never reach a lookup: `checkCallbackUrl` must run before each request.
 */
export function guardedLookup(allowLoopback: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      for (const a of list) {
        const problem = forbiddenAddress(a.address, allowLoopback);
        if (problem) return callback(new Error(`callback host ${hostname} resolves to a forbidden address (${problem})`), '', 0);
      }
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(new Error(`callback host ${hostname} has no address`), '', 0);
      callback(null, first.address, first.family);
    });
  };
}
