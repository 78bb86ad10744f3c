import dns from 'node:dns';
import { lookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];
const ranges = (table: Array<[string, string]>): Array<{ range: Range; name: string }> =>
  table.map(([cidr, name]) => ({ range: ipaddr.parseCIDR(cidr), name }));

/**
 * Every IPv4 special-purpose range in IANA's registry (RFC 6890 and its updates), whether or not IANA calls
 * it globally reachable: nobody's webhook receiver lives there. What is left is ordinary unicast.
 */
const IPV4_SPECIAL = ranges([
  ['0.0.0.0/8', '"this network"'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignment'],
  ['192.0.2.0/24', 'documentation'],
  ['192.31.196.0/24', 'AS112'],
  ['192.52.193.0/24', 'AMT'],
  ['192.88.99.0/24', '6to4 relay anycast'],
  ['192.168.0.0/16', 'private'],
  ['192.175.48.0/24', 'AS112'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
  ['255.255.255.255/32', 'broadcast'],
]);

/** Global unicast IPv6 is 2000::/3; these parts of it are special-purpose (IANA's IPv6 registry). */
const IPV6_GLOBAL = ipaddr.parseCIDR('2000::/3');
const IPV6_SPECIAL = ranges([
  ['2001::/32', 'Teredo'],
  ['2001:2::/48', 'benchmarking'],
  ['2001:10::/28', 'ORCHID'],
  ['2001:20::/28', 'ORCHIDv2'],
  ['2001::/23', 'IETF protocol assignment'],
  ['2001:db8::/32', 'documentation'],
  ['2002::/16', '6to4'],
  ['2620:4f:8000::/48', 'AS112'],
  ['3fff::/20', 'documentation'],
]);
/** Names for what lies outside 2000::/3, for the message only: none of it is allowed. */
const IPV6_OUTSIDE = ranges([
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::ffff:0:0/96', 'IPv4-mapped'],
  ['::/96', 'IPv4-compatible'],
  ['::ffff:0:0:0/96', 'RFC 6145 IPv4-translated'],
  ['64:ff9b::/96', 'NAT64'],
  ['64:ff9b:1::/48', 'NAT64 local-use'],
  ['100::/64', 'discard-only'],
  ['5f00::/16', 'SRv6 SID'],
  ['fc00::/7', 'unique local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['ff00::/8', 'multicast'],
]);

const nameIn = (ip: ipaddr.IPv4 | ipaddr.IPv6, table: Array<{ range: Range; name: string }>): string | undefined =>
  table.find(({ range }) => ip.kind() === range[0].kind() && ip.match(range))?.name;

/**
 * The address as ipaddr.js should see it. IPv6 goes through the WHATWG URL parser first: ipaddr.js reads
 * the IPv4-compatible `::127.0.0.1` as the IPv4-mapped `::ffff:127.0.0.1`, the URL parser as `::7f00:1`.
 */
function canonicalAddress(address: string): string | undefined {
  if (!address.includes(':')) return ipaddr.IPv4.isValid(address) ? address : undefined;
  const zone = address.indexOf('%');
  try {
    const host = new URL(`http://[${zone === -1 ? address : address.slice(0, zone)}]/`).hostname.slice(1, -1);
    return ipaddr.IPv6.isValid(host) ? host : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why an address may not receive callbacks, or undefined when it may. One rule for intake and for connect
 * time: only global unicast. IPv4: unicast outside every special-purpose range. IPv6: inside 2000::/3 and
 * outside its special-purpose ranges (Teredo, 6to4, documentation, …); an IPv4-mapped address
 * (::ffff:a.b.c.d, which the kernel connects to as IPv4) is judged as that IPv4 address; every other
 * embedding of IPv4 (IPv4-compatible ::a.b.c.d, NAT64, 6to4, Teredo, RFC 6145) is refused, whatever it
 * embeds. Loopback (127.0.0.0/8, ::1, ::ffff:127.x) only when `allowLoopback`.
 */
export function forbiddenAddress(address: string, allowLoopback: boolean): string | undefined {
  const canonical = canonicalAddress(address);
  if (canonical === undefined) return `"${address}" is not an IP address`;
  let ip = ipaddr.parse(canonical);
  if (ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress()) ip = ip.toIPv4Address();
  const special = ip instanceof ipaddr.IPv4
    ? nameIn(ip, IPV4_SPECIAL)
    : ip.match(IPV6_GLOBAL) ? nameIn(ip, IPV6_SPECIAL) : (nameIn(ip, IPV6_OUTSIDE) ?? 'non-global');
  if (special === undefined) return undefined;
  if (special === 'loopback' && allowLoopback) return undefined;
  return `${address} is not a global unicast address (${special})`;
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

/**
 * The platform's `callbackHttpsOnly`: an http callback URL is refused (at intake, 400 naming `callback`;
 * at delivery, not attempted). Returns the problem, or undefined.
 */
export function callbackSchemeProblem(raw: string, platform: { callbackHttpsOnly?: boolean | undefined }): string | undefined {
  if (!platform.callbackHttpsOnly) return undefined;
  return /^https:\/\//i.test(raw) ? undefined : 'must be an https URL (this platform accepts https callbacks only)';
}
