import { Readable, Transform, pipeline } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import yauzl from 'yauzl';
import { checkLinkChains } from './link-chains';
import { ArchiveRejected, isCurrentDirectory, safeEntryPath, safeLinkTarget } from './safe-path';

export type ArchiveKind = 'zip' | 'tar' | 'tar.gz';

/** Which uploads are archives, by name: they are extracted into the submission directory. */
export function archiveKind(fileName: string): ArchiveKind | undefined {
  const name = fileName.toLowerCase();
  if (name.endsWith('.zip')) return 'zip';
  if (name.endsWith('.tar')) return 'tar';
  if (name.endsWith('.tar.gz') || name.endsWith('.tgz')) return 'tar.gz';
  return undefined;
}

export interface ArchiveLimits {
  maxEntries: number;
  /** Sum of the expanded sizes of all files. */
  maxExpandedBytes: number;
}

/** An entry that passed every check. A file's content must be read to its end before the next entry. */
export type SafeEntry =
  | { type: 'directory'; path: string }
  | { type: 'file'; path: string; size: number; executable: boolean; content: Readable }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'hardlink'; path: string; target: string };

/** An entry as the container format describes it, before any check. */
interface RawEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  mode: number;
  size: number;
  linkTarget?: string;
  open(): Promise<Readable>;
}

const MAX_LINK_TARGET = 4096;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** Counts bytes through it and fails the stream beyond `max`, whatever the headers claimed. */
function byteLimit(max: number, message: () => string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) done(new ArchiveRejected(message()));
      else done(null, chunk);
    },
  });
}

async function* tarEntries(bytes: Buffer, gzipped: boolean, limits: ArchiveLimits): AsyncGenerator<RawEntry> {
  const extract = tar.extract();
  // Tar headers and padding count too: a gzip bomb of empty blocks stops here, not in memory.
  const tooBig = () => `archive expands to more than ${limits.maxExpandedBytes} bytes`;
  const stages: NodeJS.ReadWriteStream[] = gzipped ? [zlib.createGunzip(), byteLimit(limits.maxExpandedBytes * 2 + 1048576, tooBig)] : [];
  pipeline([Readable.from([bytes]), ...stages, extract], () => undefined);
  for await (const entry of extract) {
    const h = entry.header;
    const type = h.type === 'file' || h.type === 'contiguous-file' ? 'file'
      : h.type === 'directory' ? 'directory'
      : h.type === 'symlink' ? 'symlink'
      : h.type === 'link' ? 'hardlink'
      : 'other';
    yield {
      name: h.name,
      type,
      mode: h.mode ?? 0o644,
      size: h.size ?? 0,
      ...(h.linkname ? { linkTarget: h.linkname } : {}),
      open: async () => entry as unknown as Readable,
    };
    entry.resume();
  }
}

async function readAll(stream: Readable, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > max) throw new ArchiveRejected(`a link target is longer than ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function* zipEntries(bytes: Buffer, limits: ArchiveLimits): AsyncGenerator<RawEntry> {
  const zip = await promisify<Buffer, yauzl.Options, yauzl.ZipFile>(yauzl.fromBuffer)(bytes, {
    lazyEntries: true,
    validateEntrySizes: true,
  });
  if (zip.entryCount > limits.maxEntries) throw new ArchiveRejected(`archive has more than ${limits.maxEntries} entries`);
  const openStream = promisify<yauzl.Entry, Readable>(zip.openReadStream.bind(zip));
  let waiting: { resolve(e: yauzl.Entry | undefined): void; reject(err: Error): void } | undefined;
  let failed: Error | undefined;
  zip.on('entry', (e: yauzl.Entry) => waiting?.resolve(e));
  zip.on('end', () => waiting?.resolve(undefined));
  zip.on('error', (err: Error) => {
    failed = err;
    waiting?.reject(err);
  });
  try {
    for (;;) {
      if (failed) throw failed;
      const next = new Promise<yauzl.Entry | undefined>((resolve, reject) => {
        waiting = { resolve, reject };
      });
      zip.readEntry();
      const entry = await next;
      waiting = undefined;
      if (!entry) return;
      if (entry.isEncrypted()) throw new ArchiveRejected(`entry ${JSON.stringify(entry.fileName)} is encrypted`);
      const mode = (entry.externalFileAttributes >>> 16) & 0o177777;
      const format = mode & S_IFMT;
      const type = entry.fileName.endsWith('/') || format === S_IFDIR ? 'directory'
        : format === S_IFLNK ? 'symlink'
        : format === 0 || format === S_IFREG ? 'file'
        : 'other';
      const linkTarget = type === 'symlink' ? await readAll(await openStream(entry), MAX_LINK_TARGET) : undefined;
      yield {
        name: entry.fileName,
        type,
        mode,
        size: entry.uncompressedSize,
        ...(linkTarget !== undefined ? { linkTarget } : {}),
        open: () => openStream(entry),
      };
    }
  } finally {
    zip.close();
  }
}

function rawEntries(kind: ArchiveKind, bytes: Buffer, limits: ArchiveLimits): AsyncGenerator<RawEntry> {
  return kind === 'zip' ? zipEntries(bytes, limits) : tarEntries(bytes, kind === 'tar.gz', limits);
}

/** The path prefixes of `p`: a/b/c → a, a/b. */
function parents(p: string): string[] {
  const parts = p.split('/');
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/**
 * Read an uploaded archive entry by entry, handing each to `onEntry` only once it is known to be safe to
 * recreate under the submission directory: relative paths only, links that stay inside (followed through
 * each other, see checkLinkChains: that verdict comes after the last entry), no devices or
 * fifos, nothing beneath a link or a file, no path twice, at most `maxEntries` entries and
 * `maxExpandedBytes` expanded bytes (counted while decompressing, not taken from headers). `onEntry` must
 * read a file's content to its end. Every failure, `onEntry`'s included, ends as an ArchiveRejected.
 */
export async function forEachEntry(
  kind: ArchiveKind,
  bytes: Buffer,
  limits: ArchiveLimits,
  onEntry: (entry: SafeEntry) => Promise<void>,
): Promise<void> {
  let count = 0;
  let expanded = 0;
  const seen = new Map<string, SafeEntry['type']>();
  const symlinks = new Map<string, string>();
  const tooBig = () => `archive expands to more than ${limits.maxExpandedBytes} bytes`;
  try {
    for await (const raw of rawEntries(kind, bytes, limits)) {
      if (++count > limits.maxEntries) throw new ArchiveRejected(`archive has more than ${limits.maxEntries} entries`);
      // `tar -C dir .` starts with `./`: the submission directory itself.
      if (raw.type === 'directory' && isCurrentDirectory(raw.name)) continue;
      const path = safeEntryPath(raw.name);
      for (const parent of parents(path)) {
        const kindOfParent = seen.get(parent);
        if (kindOfParent && kindOfParent !== 'directory') {
          throw new ArchiveRejected(`entry ${JSON.stringify(path)} lies beneath the ${kindOfParent} ${JSON.stringify(parent)}`);
        }
      }
      const before = seen.get(path);
      if (before && !(before === 'directory' && raw.type === 'directory')) {
        throw new ArchiveRejected(`entry ${JSON.stringify(path)} appears twice`);
      }
      switch (raw.type) {
        case 'directory':
          seen.set(path, 'directory');
          await onEntry({ type: 'directory', path });
          break;
        case 'file': {
          expanded += raw.size;
          if (expanded > limits.maxExpandedBytes) throw new ArchiveRejected(tooBig());
          seen.set(path, 'file');
          const content = byteLimit(raw.size, () => `entry ${JSON.stringify(path)} is larger than its header says`);
          pipeline(await raw.open(), content, () => undefined);
          await onEntry({ type: 'file', path, size: raw.size, executable: (raw.mode & 0o111) !== 0, content });
          break;
        }
        case 'symlink': {
          const target = safeLinkTarget(path, raw.linkTarget ?? '', 'symlink');
          seen.set(path, 'symlink');
          symlinks.set(path, target);
          await onEntry({ type: 'symlink', path, target });
          break;
        }
        case 'hardlink': {
          const target = safeLinkTarget(path, raw.linkTarget ?? '', 'hardlink');
          if (seen.get(target) !== 'file' && seen.get(target) !== 'hardlink') {
            throw new ArchiveRejected(`hardlink ${JSON.stringify(path)} must point to a file earlier in the archive`);
          }
          seen.set(path, 'hardlink');
          await onEntry({ type: 'hardlink', path, target });
          break;
        }
        default:
          throw new ArchiveRejected(`entry ${JSON.stringify(path)} is a device, fifo or other special file`);
      }
    }
    // Links are followed through each other, whatever their order: judged once all are known.
    checkLinkChains(symlinks);
  } catch (err) {
    if (err instanceof ArchiveRejected) throw err;
    throw new ArchiveRejected(`file is not a readable ${kind} archive (${(err as Error).message})`);
  }
}

/** Read the whole archive, checking every entry and every byte; resolves to what it holds. */
export async function checkArchive(kind: ArchiveKind, bytes: Buffer, limits: ArchiveLimits): Promise<{ entries: number; bytes: number }> {
  let entries = 0;
  let total = 0;
  await forEachEntry(kind, bytes, limits, async (entry) => {
    entries++;
    if (entry.type === 'file') {
      for await (const chunk of entry.content) total += (chunk as Buffer).length;
    }
  });
  return { entries, bytes: total };
}
