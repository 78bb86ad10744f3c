import type { RegistryConfig } from '../config/schema';
import { parseImageReference } from '../security/image-reference';
import { registryApiHost, registryCredentials, registryDomain, registryEntry, registryScheme, repositoryPath } from './registries';

/**
 * At intake: a grader image named by tag on a registry (`127.0.0.1:5000/course/sum:1`) becomes the
 * digest that tag names now (`127.0.0.1:5000/course/sum@sha256:…`), asked of the registry's HTTP API v2
 * (`HEAD /v2/<name>/manifests/<tag>`, its `Docker-Content-Digest`). Every attempt of the submission,
 * regrades included, runs that digest, whatever the tag names later.
 */

/** Manifest types a registry may answer with (an image, or a multi-platform list/index Docker picks from). */
const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** Why a tag could not be resolved. `not_found`: the registry answered it has no such manifest; `unavailable`: anything else. */
export class RegistryResolveError extends Error {
  constructor(
    readonly kind: 'not_found' | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'RegistryResolveError';
  }
}

/** A bearer challenge's parameters (`realm`, `service`, `scope`), for registries that hand out tokens. */
function bearerChallenge(header: string | null): Record<string, string> | undefined {
  if (!header || !/^bearer\s/i.test(header)) return undefined;
  const params: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/([a-z_]+)="([^"]*)"/gi)) params[m[1]!.toLowerCase()] = m[2]!;
  return params.realm ? params : undefined;
}

async function bearerToken(challenge: Record<string, string>, basic: string | undefined, signal: AbortSignal): Promise<string | undefined> {
  const url = new URL(challenge.realm!);
  if (challenge.service) url.searchParams.set('service', challenge.service);
  if (challenge.scope) url.searchParams.set('scope', challenge.scope);
  const res = await fetch(url, { signal, ...(basic ? { headers: { authorization: basic } } : {}) });
  if (!res.ok) return undefined;
  const body = (await res.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown };
  const token = body.token ?? body.access_token;
  return typeof token === 'string' ? token : undefined;
}

/**
 * The image to store for a submission: `image` itself unless it names a registry listed in `registries`
 * and no digest, else `<repository>@<digest>`. Names without a registry domain (`gradeflow/example-sum:2`),
 * or on a registry not listed, are images local to the grading hosts and stay as they are. Throws
 * RegistryResolveError.
 */
export function pinImage(image: string, registries: readonly RegistryConfig[], timeoutMs: number): Promise<string> {
  // Identical resolutions in flight at once share one request: a burst of submissions naming one tag
  // asks the registry once, not once each (each still gets the digest the tag names during its intake).
  const key = JSON.stringify([image, registries, timeoutMs]);
  const pending = inFlight.get(key);
  if (pending) return pending;
  const resolving = resolvePin(image, registries, timeoutMs).finally(() => inFlight.delete(key));
  inFlight.set(key, resolving);
  return resolving;
}

const inFlight = new Map<string, Promise<string>>();

async function resolvePin(image: string, registries: readonly RegistryConfig[], timeoutMs: number): Promise<string> {
  const ref = parseImageReference(image);
  const domain = registryDomain(image);
  if (ref?.kind !== 'named' || ref.digest || domain === undefined) return image;
  // Only registries the operator listed are asked: a platform cannot make the API call hosts of its choosing.
  const entry = registryEntry(registries, domain);
  if (!entry) return image;
  const name = repositoryPath(ref, domain);
  const url = `${registryScheme(domain, entry)}://${registryApiHost(domain)}/v2/${name}/manifests/${ref.tag ?? 'latest'}`;
  const creds = registryCredentials(entry);
  const basic = creds ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` : undefined;
  const signal = AbortSignal.timeout(timeoutMs);
  const where = `registry ${domain}`;
  let res: Response;
  try {
    const head = (authorization?: string) =>
      fetch(url, { method: 'HEAD', signal, redirect: 'follow', headers: { accept: MANIFEST_TYPES, ...(authorization ? { authorization } : {}) } });
    res = await head(basic);
    const challenge = res.status === 401 ? bearerChallenge(res.headers.get('www-authenticate')) : undefined;
    if (challenge) {
      const token = await bearerToken(challenge, basic, signal);
      if (token) res = await head(`Bearer ${token}`);
    }
  } catch (err) {
    const why = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : String((err as Error).cause ?? err);
    throw new RegistryResolveError('unavailable', `${where} could not be reached to resolve "${image}" (${why})`);
  }
  if (res.status === 404) throw new RegistryResolveError('not_found', `${where} has no image "${image}" (404 manifest unknown)`);
  if (!res.ok) {
    const what = res.status === 401 ? 'unauthorized' : res.status === 403 ? 'denied' : res.statusText;
    throw new RegistryResolveError('unavailable', `${where} refused to resolve "${image}": ${res.status} ${what}`);
  }
  const digest = res.headers.get('docker-content-digest') ?? '';
  if (!DIGEST_RE.test(digest)) throw new RegistryResolveError('unavailable', `${where} answered no sha256 digest for "${image}"`);
  const withoutTag = ref.tag !== undefined ? image.slice(0, image.length - ref.tag.length - 1) : image;
  return `${withoutTag}@${digest}`;
}
