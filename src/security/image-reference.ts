/**
 * Docker image references: the grammar of distribution/reference, how Docker normalizes a name, and
 * which strings the Docker engine reads as an image id rather than a name. Pure; used by the API (is it a
 * reference? is it allowed?) and by the grading host (is the image Docker found really the one named?).
 *
 *   reference   := name [":" tag] ["@" digest]
 *   name        := [domain "/"] path                      at most 255 characters
 *   domain      := host [":" port]                        host: DNS-ish components joined by ".", or [IPv6]
 *   path        := component ("/" component)*
 *   component   := [a-z0-9]+ (separator [a-z0-9]+)*       separator: "." | "_" | "__" | "-"+
 *   tag         := [\w][\w.-]{0,127}
 *   digest      := algorithm ":" hex                      here: sha256 (64), sha384 (96), sha512 (128), lower-case
 *
 * The first component is the domain only when the name has a "/" after it and the component contains "."
 * or ":", is "localhost", or has an upper-case letter (as Docker's normalization decides); otherwise the
 * name is on Docker Hub (`docker.io`), and a one-component Hub name is an official image (`library/`).
 */

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|-+)';
const PATH_COMPONENT_RE = new RegExp(`^${ALNUM}(?:${SEPARATOR}${ALNUM})*$`);
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG_RE = /^\w[\w.-]{0,127}$/;
const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$/;

/** Docker reads these as (a prefix of) an image id when no image has that name: `abc123`, `sha256:abc1`, 64 hex. */
const ID_SHAPED_RE = /^(?:sha(?:256|384|512):)?[a-f0-9]+$/;
const FULL_ID_RE = /^(?:sha256:)?([a-f0-9]{64})$/;

const NAME_MAX = 255;
const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const DEFAULT_TAG = 'latest';

/** A reference by name: `repository` is the normalized name (`docker.io/library/ubuntu`). */
export interface NamedReference {
  kind: 'named';
  /** Domain and path, normalized: the default domain filled in, `library/` for official Hub images. */
  repository: string;
  /** The tag as written, or undefined (Docker then uses `latest`, unless there is a digest). */
  tag?: string;
  /** `sha256:<hex>` (or sha384/sha512) when the reference pins one. */
  digest?: string;
}

/** A string Docker would take as an image id or an id prefix. `digest` only when it is a whole sha256 id. */
interface IdReference {
  kind: 'id';
  digest?: string;
}

export type ImageReference = NamedReference | IdReference;

/** Split a name into its domain (or undefined) and path, the way Docker decides. */
export function splitDomain(name: string): { domain?: string; path: string } {
  const slash = name.indexOf('/');
  if (slash < 0) return { path: name };
  const first = name.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
    return { domain: first, path: name.slice(slash + 1) };
  }
  return { path: name };
}

/** The registry a name is on: the default (Docker Hub) when it names none. */
export const normalizeDomain = (domain: string | undefined): string =>
  domain === undefined || domain === LEGACY_DEFAULT_DOMAIN ? DEFAULT_DOMAIN : domain;

/** The normalized repository of a domain and path: `ubuntu` → `docker.io/library/ubuntu`. */
export function normalizeRepository(domain: string | undefined, path: string): string {
  const d = normalizeDomain(domain);
  return `${d}/${d === DEFAULT_DOMAIN && !path.includes('/') ? OFFICIAL_PREFIX : ''}${path}`;
}

/** Whether a name (no tag, no digest) follows the grammar. */
export function isValidName(name: string): boolean {
  if (name.length === 0 || name.length > NAME_MAX) return false;
  const { domain, path } = splitDomain(name);
  if (domain !== undefined && !DOMAIN_RE.test(domain)) return false;
  // Docker refuses a repository that is 64 hex characters: it would read as an image id.
  if (/^[a-f0-9]{64}$/.test(path)) return false;
  return path.split('/').every((c) => PATH_COMPONENT_RE.test(c));
}

/**
 * Parse an image reference; undefined when it is not one. Strings Docker would read as an image id (or
 * the prefix of one) come back as `kind: 'id'`, whatever else they might also parse as: `abcdef123456`
 * names a repository only when an image is tagged so; otherwise Docker finds the image whose id starts so.
 */
export function parseImageReference(value: string): ImageReference | undefined {
  if (value.length === 0 || value.length > 600) return undefined;
  if (ID_SHAPED_RE.test(value)) {
    const full = FULL_ID_RE.exec(value);
    return full ? { kind: 'id', digest: `sha256:${full[1]}` } : { kind: 'id' };
  }
  let rest = value;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) return undefined;
  }
  if (!isValidName(rest)) return undefined;
  const { domain, path } = splitDomain(rest);
  return {
    kind: 'named',
    repository: normalizeRepository(domain, path),
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** Whether a string is a whole sha256 digest, `sha256:<64 hex>`. */
export const isSha256Digest = (value: string): boolean => /^sha256:[a-f0-9]{64}$/.test(value);

/**
 * The names Docker keeps on an image (`RepoTags` like `ubuntu:22.04`, `RepoDigests` like
 * `ubuntu@sha256:…`), normalized for comparison: `docker.io/library/ubuntu:22.04`. Unparseable ones are left out.
 */
export function normalizedImageNames(names: readonly string[] | null | undefined): Set<string> {
  const out = new Set<string>();
  for (const n of names ?? []) {
    const ref = parseImageReference(n);
    if (ref?.kind === 'named') out.add(canonicalName(ref));
  }
  return out;
}

/** `repository@digest` when a digest is pinned (the tag is then ignored, as Docker does), else `repository:tag`. */
export function canonicalName(ref: NamedReference): string {
  return ref.digest ? `${ref.repository}@${ref.digest}` : `${ref.repository}:${ref.tag ?? DEFAULT_TAG}`;
}
