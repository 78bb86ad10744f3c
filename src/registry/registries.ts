import type { RegistryConfig } from '../config/schema';
import { splitDomain, type NamedReference } from '../security/image-reference';

/**
 * The registries of the config (`registries`): which one an image reference names, and its credentials.
 * Read by the API (a tag resolved to its digest at intake) and by grading hosts (pulls); the credentials
 * never leave those processes: not in an API answer, a workflow input, or a container.
 */

type Env = Record<string, string | undefined>;

/** Docker Hub's names for itself in a reference, and where its registry API answers. */
const HUB_DOMAINS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
const HUB_API = 'registry-1.docker.io';

/** The registry a reference names explicitly (`127.0.0.1:5000` of `127.0.0.1:5000/course/sum:1`), or undefined for a name without one. */
export function registryDomain(image: string): string | undefined {
  const at = image.indexOf('@');
  return splitDomain(at >= 0 ? image.slice(0, at) : image).domain;
}

/** The repository's path on its registry: `course/sum` of `127.0.0.1:5000/course/sum`. */
export function repositoryPath(ref: NamedReference, domain: string): string {
  return ref.repository.slice(ref.repository.indexOf('/') + 1) || domain;
}

/** Host and port to call for a domain: Docker Hub's API host for its aliases. */
export const registryApiHost = (domain: string): string => (HUB_DOMAINS.has(domain) ? HUB_API : domain);

/** Docker accepts loopback registries over plain HTTP; so does gradeflow, and any registry marked `insecure`. */
export function registryScheme(domain: string, entry?: RegistryConfig): 'http' | 'https' {
  if (entry?.insecure !== undefined) return entry.insecure ? 'http' : 'https';
  const host = domain.replace(/:[0-9]+$/, '');
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host) ? 'http' : 'https';
}

/** The config's entry for a registry domain, if any. */
export function registryEntry(registries: readonly RegistryConfig[], domain: string): RegistryConfig | undefined {
  return registries.find((r) => r.host === domain || (HUB_DOMAINS.has(r.host) && HUB_DOMAINS.has(domain)));
}

/** Username and password for a registry (the password from the environment when `passwordEnv` names it), or undefined. */
export function registryCredentials(
  entry: RegistryConfig | undefined,
  env: Env = process.env,
): { username: string; password: string } | undefined {
  if (!entry?.username) return undefined;
  const password = entry.passwordEnv ? env[entry.passwordEnv] : entry.password;
  return { username: entry.username, password: password ?? '' };
}
