import type { LookupAddress } from 'node:dns';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkCallbackUrl, forbiddenAddress, guardedLookup } from '../../src/security/callback-url';

/**
 * The SSRF guard, by the forms the attack report tried (rows 280–343) and by property: special-purpose
 * IPv4 addresses written in every encoding the WHATWG URL parser accepts, and embedded in IPv6 every way
 * (mapped, compatible, NAT64, 6to4, Teredo, RFC 6145), are refused; public ones are not.
 */

const refusedFor = async (url: string, allowLoopback: boolean) => (await checkCallbackUrl(url, allowLoopback)) !== undefined;

describe('the forms the attack report tried for a platform without loopback (rows 280–343)', () => {
  it.each([
    'http://[::169.254.169.254]/latest/meta-data/',
    'http://[::10.0.0.1]/',
    'http://127.0.0.1:4150/cb/ok/x',
    'http://localhost:4150/',
    'http://LOCALHOST:4150/',
    'http://localhost.:4150/',
    'http://[::1]:4150/',
    'http://[::ffff:127.0.0.1]:4150/',
    'http://[::ffff:7f00:1]:4150/',
    'http://[0:0:0:0:0:ffff:127.0.0.1]/',
    'http://2130706433:4150/',
    'http://0x7f000001:4150/',
    'http://0177.0.0.1:4150/',
    'http://017700000001/',
    'http://127.1:4150/',
    'http://0/',
    'http://0.0.0.0:4150/',
    'http://[::]:4150/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fe80::1]/',
    'http://10.0.0.1/',
    'http://172.16.0.1/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://192.0.0.8/',
    'http://198.18.0.1/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://[fc00::1]/',
    'http://[fd00::1]/',
    'http://[64:ff9b::7f00:1]/',
    'http://[2002:7f00:1::]/',
    'http://[::127.0.0.1]/',
    'http://[::ffff:0:7f00:1]/',
    'http://[2001:db8::1]/',
    'http://192.0.2.1/',
    'http://[100::1]/',
    'http://user:pass@example.com/',
    'http://user@example.com/',
    'http://example.com@127.0.0.1/',
    'http://127.0.0.1#@example.com/',
    'http://127.0.0.1\\@example.com/',
    'ftp://example.com/x',
    'file:///etc/passwd',
    'data:text/plain,hello',
    'javascript:alert(1)',
    'gopher://127.0.0.1:4150/_POST',
    'ws://example.com/',
    'HTTP://127.0.0.1/',
    'http:/127.0.0.1:4150/',
    'http:127.0.0.1:4150/',
    ' http://127.0.0.1/',
    'http://127.0.0.1%2f@example.com/',
    'http://①②⑦.0.0.1/',
    'http://127。0。0。1/',
    'http://１２７．０．０．１/',
    'http://no-such-host.invalid/',
    'http://[::ffff:a9fe:a9fe]/',
    // IPv4-compatible, the report's finding 7: ipaddr.js calls ::/96 "unicast".
    'http://[::a9fe:a9fe]/',
    'http://[0:0:0:0:0:0:10.0.0.1]/',
    'http://[64:ff9b:1::a00:1]/',
    'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/',
  ])('refuses %s', async (url) => {
    expect(await refusedFor(url, false)).toBe(true);
  });
});

describe('a platform that allows loopback (rows 336–342)', () => {
  it.each(['http://[::ffff:127.0.0.1]:4150/cb', 'http://2130706433:4150/cb', 'http://0x7f000001:4150/cb', 'http://127.0.0.1:4150/', 'http://[::1]:4150/', 'http://localhost:4150/'])(
    'accepts %s',
    async (url) => expect(await checkCallbackUrl(url, true)).toBeUndefined(),
  );
  it.each(['http://0.0.0.0:4150/', 'http://user:pw@127.0.0.1:4150/', 'http://[::127.0.0.1]:4150/', 'http://[64:ff9b::7f00:1]/', 'http://10.0.0.1/'])(
    'still refuses %s',
    async (url) => expect(await refusedFor(url, true)).toBe(true),
  );
});

// ---- generated addresses ----

type V4 = [number, number, number, number];

/** IANA's IPv4 special-purpose ranges, as [first octets, prefix length]. */
const SPECIAL_V4: Array<[V4, number]> = [
  [[0, 0, 0, 0], 8], [[10, 0, 0, 0], 8], [[100, 64, 0, 0], 10], [[127, 0, 0, 0], 8], [[169, 254, 0, 0], 16],
  [[172, 16, 0, 0], 12], [[192, 0, 0, 0], 24], [[192, 0, 2, 0], 24], [[192, 31, 196, 0], 24], [[192, 52, 193, 0], 24],
  [[192, 88, 99, 0], 24], [[192, 168, 0, 0], 16], [[192, 175, 48, 0], 24], [[198, 18, 0, 0], 15], [[198, 51, 100, 0], 24],
  [[203, 0, 113, 0], 24], [[224, 0, 0, 0], 4], [[240, 0, 0, 0], 4],
];

const toInt = (a: V4) => ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0;
const fromInt = (n: number): V4 => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const inRange = (n: number, [base, len]: [V4, number]) => len === 0 || (n >>> (32 - len)) === (toInt(base) >>> (32 - len));
const isSpecial = (a: V4) => SPECIAL_V4.some((r) => inRange(toInt(a), r));
const isLoopback = (a: V4) => a[0] === 127;

const specialV4 = fc
  .tuple(fc.constantFrom(...SPECIAL_V4), fc.integer({ min: 0, max: 0xffffffff }))
  .map(([[base, len], noise]) => fromInt((toInt(base) | (noise >>> len)) >>> 0));
const anyV4 = fc.integer({ min: 0, max: 0xffffffff }).map(fromInt);
const publicV4 = anyV4.filter((a) => !isSpecial(a));

/** One number as the URL parser reads it: decimal, 0x hex (either case), or 0-prefixed octal. */
const numberForm = fc.constantFrom(
  (n: number) => String(n),
  (n: number) => `0x${n.toString(16)}`,
  (n: number) => `0X${n.toString(16).toUpperCase()}`,
  (n: number) => `0${n.toString(8)}`,
  (n: number) => `00${n.toString(8)}`,
);

/** Every way WHATWG spells an IPv4 host: 1 to 4 parts, the last one holding the remaining bytes, each part in its own base. */
const v4Spelling = (a: V4) =>
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.array(numberForm, { minLength: 4, maxLength: 4 }), fc.boolean()).map(([parts, forms, wide]) => {
    const lead = a.slice(0, parts - 1);
    const rest = a.slice(parts - 1).reduce((acc, b) => acc * 256 + b, 0);
    const text = [...lead, rest].map((n, i) => forms[i]!(n)).join('.');
    // Full-width digits, letters and dots: IDNA maps them to ASCII before the host is read.
    return wide ? [...text].map((c) => (c === '.' ? '．' : String.fromCharCode(c.charCodeAt(0) + 0xfee0))).join('') : text;
  });

const hex16 = (a: V4) => [((a[0] << 8) | a[1]).toString(16), ((a[2] << 8) | a[3]).toString(16)];
const dotted = (a: V4) => a.join('.');

/** The ways IPv4 hides in an IPv6 literal. */
const embeddings: Array<[string, (a: V4) => string]> = [
  ['mapped', (a) => `::ffff:${dotted(a)}`],
  ['mapped, hex', (a) => `::ffff:${hex16(a).join(':')}`],
  ['mapped, long', (a) => `0:0:0:0:0:ffff:${dotted(a)}`],
  ['compatible', (a) => `::${dotted(a)}`],
  ['compatible, hex', (a) => `::${hex16(a).join(':')}`],
  ['NAT64', (a) => `64:ff9b::${dotted(a)}`],
  ['NAT64 local', (a) => `64:ff9b:1::${hex16(a).join(':')}`],
  ['6to4', (a) => `2002:${hex16(a).join(':')}::1`],
  ['Teredo', (a) => `2001:0:${hex16([203, 0, 113, 1]).join(':')}:0:0:${hex16(fromInt(~toInt(a) >>> 0)).join(':')}`],
  ['RFC 6145', (a) => `::ffff:0:${dotted(a)}`],
];
const embedded = fc.constantFrom(...embeddings);

describe('generated: special IPv4 addresses in every spelling', () => {
  it('refuses them spelled as an IPv4 host (dotted, decimal, hex, octal, mixed, short, full-width)', async () => {
    await fc.assert(
      fc.asyncProperty(specialV4.chain((a) => fc.tuple(fc.constant(a), v4Spelling(a), fc.boolean())), async ([a, host, loopbackOk]) => {
        // Sanity: the URL parser reads the spelling as the address it was made from.
        expect(new URL(`http://${host}/`).hostname).toBe(dotted(a));
        const allow = loopbackOk && isLoopback(a);
        expect(await refusedFor(`http://${host}/`, loopbackOk)).toBe(!allow);
      }),
      { numRuns: 400 },
    );
  });

  it('refuses them embedded in IPv6 in every way; only IPv4-mapped loopback is allowed, and only with loopback', async () => {
    await fc.assert(
      fc.asyncProperty(specialV4, embedded, fc.boolean(), async (a, [kind, embed], loopbackOk) => {
        const allow = loopbackOk && isLoopback(a) && kind.startsWith('mapped');
        expect(await refusedFor(`http://[${embed(a)}]/`, loopbackOk)).toBe(!allow);
      }),
      { numRuns: 400 },
    );
  });

  it('accepts public IPv4 addresses in every spelling and mapped, and refuses every other IPv6 embedding of them', async () => {
    await fc.assert(
      fc.asyncProperty(publicV4.chain((a) => fc.tuple(fc.constant(a), v4Spelling(a))), embedded, async ([a, host], [kind, embed]) => {
        expect(await checkCallbackUrl(`http://${host}/`, false)).toBeUndefined();
        expect(await refusedFor(`http://[${embed(a)}]/`, false)).toBe(!kind.startsWith('mapped'));
      }),
      { numRuns: 300 },
    );
  });
});

describe('generated: IPv6', () => {
  const groups = (n: number) => fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: n, maxLength: n });
  const v6 = (prefix: number[], rest: number[]) => [...prefix, ...rest].map((g) => g.toString(16)).join(':');

  /** Special-purpose prefixes (whole 16-bit groups, then the bits the range fixes in the next group). */
  const special: Array<[string, number[], number, number]> = [
    ['Teredo', [0x2001, 0], 0, 0], ['benchmarking', [0x2001, 2, 0], 0, 0], ['ORCHID', [0x2001], 0x10, 0xfff0],
    ['ORCHIDv2', [0x2001], 0x20, 0xfff0], ['IETF', [0x2001], 0x0000, 0xfe00], ['documentation', [0x2001, 0xdb8], 0, 0],
    ['6to4', [0x2002], 0, 0], ['documentation 3fff::/20', [0x3fff], 0, 0xf000], ['AS112', [0x2620, 0x4f, 0x8000], 0, 0],
    ['ULA', [], 0xfc00, 0xfe00], ['link-local', [], 0xfe80, 0xffc0], ['multicast', [], 0xff00, 0xff00],
    ['NAT64', [0x64, 0xff9b, 0, 0, 0, 0], 0, 0], ['NAT64 local', [0x64, 0xff9b, 1], 0, 0], ['discard', [0x100, 0, 0, 0], 0, 0],
    ['outside 2000::/3, low', [], 0x0000, 0xe000], ['outside 2000::/3, 4000::/2', [], 0x4000, 0xc000], ['outside 2000::/3, 8000::/1', [], 0x8000, 0x8000],
  ];

  it('refuses every special-purpose or non-global range, with or without loopback', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...special), groups(8), fc.boolean(), async ([, prefix, value, mask], rest, loopbackOk) => {
        const groupsLeft = rest.slice(prefix.length);
        if (mask !== 0) groupsLeft[0] = (value & mask) | (groupsLeft[0]! & ~mask & 0xffff);
        const address = v6(prefix, groupsLeft);
        if (address === '0:0:0:0:0:0:0:1' && loopbackOk) return;
        expect(await refusedFor(`http://[${address}]/`, loopbackOk)).toBe(true);
        expect(forbiddenAddress(address, loopbackOk)).toBeDefined();
      }),
      { numRuns: 400 },
    );
  });

  it('accepts global unicast outside the special ranges', async () => {
    const global = fc
      .tuple(fc.integer({ min: 0x2400, max: 0x2fff }), groups(7))
      .filter(([first, rest]) => !(first === 0x2620 && rest[0] === 0x4f && rest[1] === 0x8000));
    await fc.assert(
      fc.asyncProperty(global, async ([first, rest]) => {
        expect(await checkCallbackUrl(`http://[${v6([first], rest)}]/`, false)).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });
});

describe('one rule at intake and at connect time', () => {
  /** What the delivery's `lookup` hook answers for a name that resolves to `address` (an IP literal resolves to itself). */
  const lookupRefuses = (address: string, allowLoopback: boolean) =>
    new Promise<boolean>((resolve) => {
      guardedLookup(allowLoopback)(address, { all: true }, ((err: NodeJS.ErrnoException | null, res?: string | LookupAddress[]) =>
        resolve(err !== null || res === undefined)) as never);
    });

  it('the lookup hook refuses exactly what intake refuses', async () => {
    const address = fc.oneof(
      specialV4.map(dotted),
      publicV4.map(dotted),
      fc.tuple(fc.oneof(specialV4, publicV4), embedded).map(([a, [, embed]]) => new URL(`http://[${embed(a)}]/`).hostname.slice(1, -1)),
    );
    await fc.assert(
      fc.asyncProperty(address, fc.boolean(), async (a, loopbackOk) => {
        const host = a.includes(':') ? `[${a}]` : a;
        expect(await lookupRefuses(a, loopbackOk)).toBe(await refusedFor(`http://${host}/`, loopbackOk));
      }),
      { numRuns: 200 },
    );
  });

  it('names the range it refused', () => {
    expect(forbiddenAddress('::a9fe:a9fe', false)).toMatch(/IPv4-compatible/);
    expect(forbiddenAddress('::ffff:a9fe:a9fe', false)).toMatch(/link-local/);
    expect(forbiddenAddress('127.0.0.1', false)).toMatch(/loopback/);
    expect(forbiddenAddress('not an address', false)).toMatch(/not an IP address/);
  });
});
