import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { archiveKind, forEachEntry, type ArchiveLimits } from './read-archive';

export interface SubmissionTar {
  /** The tar stream for Docker's archive API, extracted into the submission directory. */
  stream: Readable;
  /** Settles when the stream is complete; rejects with ArchiveRejected when the upload is not acceptable. */
  done: Promise<void>;
}

// Owned by root and not writable by the grader's user: the student cannot grow the submission volume,
// which (unlike the tmpfs) is not size-limited. Graders copy to /tmp what they need to change.
const OWNER = { uid: 0, gid: 0, uname: 'root', gname: 'root' };

/**
 * The submission as the container will see it: a single file as it was uploaded, or an archive's
 * checked entries (see forEachEntry) re-packed with normalized owners and modes.
 */
export function submissionTar(file: { name: string; content: Buffer }, limits: ArchiveLimits): SubmissionTar {
  const pack = tar.pack();
  const kind = archiveKind(file.name);
  const mtime = new Date();
  const fill = async (): Promise<void> => {
    if (!kind) {
      pack.entry({ name: file.name, size: file.content.length, mode: 0o644, mtime, ...OWNER }, file.content);
      return;
    }
    await forEachEntry(kind, file.content, limits, async (entry) => {
      switch (entry.type) {
        case 'directory':
          pack.entry({ name: entry.path, type: 'directory', mode: 0o755, mtime, ...OWNER });
          return;
        case 'symlink':
          pack.entry({ name: entry.path, type: 'symlink', linkname: entry.target, mode: 0o777, mtime, ...OWNER });
          return;
        case 'hardlink':
          pack.entry({ name: entry.path, type: 'link', linkname: entry.target, mode: 0o644, mtime, ...OWNER });
          return;
        case 'file': {
          const header = { name: entry.path, size: entry.size, mode: entry.executable ? 0o755 : 0o644, mtime, ...OWNER };
          await new Promise<void>((resolve, reject) => {
            const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
            entry.content.once('error', reject);
            entry.content.pipe(sink as unknown as NodeJS.WritableStream);
          });
        }
      }
    });
  };
  const done = fill().then(
    () => {
      pack.finalize();
    },
    (err: unknown) => {
      pack.destroy(err as Error);
      throw err;
    },
  );
  const stream = Readable.from(pack, { objectMode: false });
  // A rejected archive cuts the stream short; the reason travels through `done`, not as a stream error.
  stream.on('error', () => undefined);
  return { stream, done };
}
