import {
  canonicalName,
  isSha256Digest,
  isValidName,
  normalizeDomain,
  normalizeRepository,
  normalizedImageNames,
  parseImageReference,
  splitDomain,
  type ImageReference,
} from './image-reference';

/**
 * Which images a platform may name: its `images` list in the config. An entry is
 *
 * - `*`: any repository (not a bare image id);
 * - a repository pattern: a name without tag or digest, where `*` stands for any characters (including
 *   `/`) in the path, never in the registry. It is normalized as Docker normalizes names, so `gradeflow/*`
 *   matches `gradeflow/example-sum:1` and `docker.io/gradeflow/example-sum:1`; a one-component pattern
 *   without `*` is an official image (`ubuntu` is `docker.io/library/ubuntu`). Any tag of a matching
 *   repository is allowed;
 * - a digest `sha256:<64 hex>`: that image by its id (`sha256:<hex>` or the bare 64 hex), or any
 *   `name@sha256:<hex>` pinned to it.
 *
 * A bare image id, or a name Docker would read as an id prefix (`abcdef123456`, `sha256:abcd`), is allowed
 * only as a whole listed digest.
 */
export interface ImageRules {
  any: boolean;
  digests: ReadonlySet<string>;
  patterns: readonly RegExp[];
}

/** Why an entry of `images` is not valid, or undefined. */
export function imageEntryProblem(entry: string): string | undefined {
  if (entry === '*' || isSha256Digest(entry)) return undefined;
  if (entry.includes('@') || entry.startsWith('sha256:')) return 'a digest must be "sha256:" and 64 lower-case hex digits';
  if (entry.lastIndexOf(':') > entry.lastIndexOf('/')) return 'list a repository without its tag (any tag of it is allowed)';
  const { domain } = splitDomain(entry);
  if (domain?.includes('*')) return 'a "*" may not stand for the registry; name it, or use "*" alone for any repository';
  if (!isValidName(entry.replaceAll('*', 'x'))) return 'is not a repository name (lower-case components separated by "/", "*" as a wildcard)';
  return undefined;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function patternRegExp(entry: string): RegExp {
  const { domain, path } = splitDomain(entry);
  // `library/` is Docker's reading of a one-component name; a wildcard pattern matches the name as normalized.
  const full = path.includes('*') ? `${normalizeDomain(domain)}/${path}` : normalizeRepository(domain, path);
  return new RegExp(`^${full.split('*').map(escapeRegExp).join('.*')}$`);
}

/** Compile a platform's `images`; throws naming the first bad entry. */
export function compileImageRules(entries: readonly string[]): ImageRules {
  const digests = new Set<string>();
  const patterns: RegExp[] = [];
  let any = false;
  entries.forEach((entry, i) => {
    const problem = imageEntryProblem(entry);
    if (problem) throw new ImageEntryError(i, `"${entry}": ${problem}`);
    if (entry === '*') any = true;
    else if (isSha256Digest(entry)) digests.add(entry);
    else patterns.push(patternRegExp(entry));
  });
  return { any, digests, patterns };
}

export class ImageEntryError extends Error {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(message);
    this.name = 'ImageEntryError';
  }
}

const compiled = new WeakMap<readonly string[], ImageRules>();

/** The compiled rules of an `images` list (compiled once per list). */
export function imageRules(entries: readonly string[]): ImageRules {
  let rules = compiled.get(entries);
  if (!rules) {
    rules = compileImageRules(entries);
    compiled.set(entries, rules);
  }
  return rules;
}

/** Whether the rules allow a parsed reference. */
export function isImageAllowed(ref: ImageReference, rules: ImageRules): boolean {
  if (ref.kind === 'id') return ref.digest !== undefined && rules.digests.has(ref.digest);
  if (ref.digest && rules.digests.has(ref.digest)) return true;
  return rules.any || rules.patterns.some((p) => p.test(ref.repository));
}

/** What Docker's image inspect says about an image, the parts that name it. */
export interface InspectedImage {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
}

/**
 * On the grading host, after Docker resolved `image` to `inspected`: undefined when the image really is
 * the one the reference names (one of its tags, one of its repository digests, or its id), else why not.
 * Docker resolves a name it has no tag for as an image-id prefix (`abcdef123456`); this refuses that.
 */
export function imageIdentityProblem(image: string, inspected: InspectedImage): string | undefined {
  const ref = parseImageReference(image);
  if (!ref) return `"${image}" is not a valid image reference`;
  if (ref.kind === 'id') {
    if (ref.digest && inspected.Id === ref.digest) return undefined;
    return `"${image}" is an image id, or what Docker reads as an id prefix, and not this image's id; name the image by repository`;
  }
  const names = normalizedImageNames(ref.digest ? inspected.RepoDigests : inspected.RepoTags);
  if (names.has(canonicalName(ref))) return undefined;
  return `"${image}" is not a name of the image Docker found (${inspected.Id}); Docker may have read it as an image id prefix`;
}
