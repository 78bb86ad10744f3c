import path from 'node:path/posix';

/** Why an archive cannot become a submission directory; the message names the entry. */
export class ArchiveRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveRejected';
  }
}

const MAX_PATH = 1024;
const MAX_DEPTH = 32;

/**
 * The entry's path relative to the submission directory, or a rejection: absolute paths, `..` segments,
 * backslashes, drive letters, control characters and over-long or over-deep paths are refused rather than
 * "fixed", so what the grader sees is exactly what the student packed.
 */
export function safeEntryPath(raw: string): string {
  const shown = JSON.stringify(raw.length > 200 ? `${raw.slice(0, 200)}…` : raw);
  if (/[\u0000-\u001f\u007f]/.test(raw)) throw new ArchiveRejected(`entry ${shown} has control characters in its name`);
  if (raw.includes('\\')) throw new ArchiveRejected(`entry ${shown} has a backslash in its path`);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) throw new ArchiveRejected(`entry ${shown} has an absolute path`);
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new ArchiveRejected(`entry ${shown} points outside the submission directory`);
  if (segments.length === 0) throw new ArchiveRejected(`entry ${shown} has an empty path`);
  if (raw.length > MAX_PATH || segments.length > MAX_DEPTH) throw new ArchiveRejected(`entry ${shown} has too long a path`);
  return segments.join('/');
}

/**
 * The entry `tar -C dir .` writes first, `./` (or `.`): the submission directory itself, nothing to create.
 */
export function isCurrentDirectory(raw: string): boolean {
  const segments = raw.split('/');
  return segments.includes('.') && segments.every((s) => s === '.' || s === '');
}

/**
 * A link's target, checked to stay inside the submission directory. Symlink targets are relative to the
 * link's own directory; hardlink targets are paths inside the archive.
 */
export function safeLinkTarget(entryPath: string, target: string, kind: 'symlink' | 'hardlink'): string {
  const outside = new ArchiveRejected(
    `${kind} ${JSON.stringify(entryPath)} points outside the submission directory (${JSON.stringify(target)})`,
  );
  if (target === '' || target.startsWith('/') || target.includes('\\') || /^[A-Za-z]:/.test(target)) throw outside;
  const resolved = path.normalize(kind === 'symlink' ? path.join(path.dirname(entryPath), target) : target);
  if (resolved === '..' || resolved.startsWith('../')) throw outside;
  return kind === 'symlink' ? target : resolved;
}
