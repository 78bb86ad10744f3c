import { ArchiveRejected } from './safe-path';

/** Links followed while resolving one path before it counts as a loop (Linux's MAXSYMLINKS). */
const MAX_LINK_HOPS = 40;
/** Path components walked in a whole archive's resolutions: bounds the work a hostile archive can cause. */
const MAX_STEPS = 1_000_000;

/**
 * Check an archive's symlinks as the container's kernel will follow them: each link's target is resolved
 * through every other link in the archive (declared before or after it), component by component, from the
 * link's own directory. A link whose resolution climbs above the submission directory at any point, or
 * that loops (more than MAX_LINK_HOPS links on the way), is refused: `a -> .` and `b -> a/..` each look
 * harmless, but `b` is the directory above. `links` maps each symlink's path to its target; both are
 * relative to the submission directory and already checked textually (see safeLinkTarget). No entry lies
 * beneath a symlink (forEachEntry refuses that), so a link's own directory holds no link.
 */
export function checkLinkChains(links: ReadonlyMap<string, string>): void {
  let steps = 0;
  for (const [link, target] of links) {
    const dir = link.split('/').slice(0, -1);
    // The components still to walk, in reverse (pop from the end), and where the walk is.
    const pending = [...split(target)].reverse();
    const at = [...dir];
    let hops = 0;
    while (pending.length > 0) {
      if (++steps > MAX_STEPS) throw new ArchiveRejected("the archive's symlinks take too long to resolve");
      const part = pending.pop()!;
      if (part === '.') continue;
      if (part === '..') {
        if (at.length === 0) {
          throw new ArchiveRejected(`symlink ${JSON.stringify(link)} points outside the submission directory (${JSON.stringify(target)}, through other links)`);
        }
        at.pop();
        continue;
      }
      at.push(part);
      const next = links.get(at.join('/'));
      if (next === undefined) continue;
      if (++hops > MAX_LINK_HOPS) {
        throw new ArchiveRejected(`symlink ${JSON.stringify(link)} loops (more than ${MAX_LINK_HOPS} links to follow)`);
      }
      // A link resolves from its own directory: drop it from the walk and walk its target instead.
      at.pop();
      pending.push(...[...split(next)].reverse());
    }
  }
}

const split = (p: string): string[] => p.split('/').filter((s) => s !== '');
