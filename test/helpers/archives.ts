import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import yazl from 'yazl';

/** Test archives, built with real zip and tar writers. */

export interface FakeEntry {
  name: string;
  content?: string | Buffer;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device';
  linkname?: string;
  mode?: number;
}

async function collect(stream: NodeJS.ReadableStream | AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

export async function makeTar(entries: FakeEntry[], gzip = false): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const content = type === 'file' ? Buffer.from(e.content ?? '') : undefined;
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(content ? { size: content.length } : {}),
    };
    if (content) pack.entry(header, content);
    else pack.entry(header).end(undefined);
  }
  pack.finalize();
  const bytes = await collect(pack);
  return gzip ? zlib.gzipSync(bytes) : bytes;
}

export async function makeZip(entries: FakeEntry[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    if (e.type === 'directory') zip.addEmptyDirectory(e.name);
    else if (e.type === 'symlink') zip.addBuffer(Buffer.from(e.linkname ?? ''), e.name, { mode: 0o120777 });
    else zip.addBuffer(Buffer.from(e.content ?? ''), e.name, { mode: e.mode ?? 0o100644 });
  }
  zip.end();
  return collect(zip.outputStream);
}

/** A zip holding one file of `bytes` zeros: a few kilobytes that expand enormously. */
export async function makeZipBomb(bytes: number): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const chunk = Buffer.alloc(1024 * 1024);
  let left = bytes;
  const zeros = new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(chunk.subarray(0, n));
    },
  });
  zip.addReadStream(zeros, 'zeros.txt', { size: bytes });
  zip.end();
  return collect(zip.outputStream);
}

/**
 * A zip whose entry is named `evilName` (zip writers refuse such names, so a same-length placeholder is
 * written and renamed in both the local header and the central directory).
 */
export async function makeEvilZip(evilName: string, content = 'pwned'): Promise<Buffer> {
  const placeholder = 'x'.repeat(evilName.length);
  const zip = await makeZip([{ name: placeholder, content }]);
  let out = zip;
  let at = out.indexOf(placeholder);
  while (at !== -1) {
    out = Buffer.concat([out.subarray(0, at), Buffer.from(evilName), out.subarray(at + placeholder.length)]);
    at = out.indexOf(placeholder, at + 1);
  }
  return out;
}

/** The entries of a tar as Docker would receive it. */
export async function listTar(stream: NodeJS.ReadableStream): Promise<Array<tar.Header & { content: string }>> {
  const extract = tar.extract();
  const out: Array<tar.Header & { content: string }> = [];
  const feeding = (async () => {
    for await (const c of stream as AsyncIterable<Buffer>) extract.write(c);
    extract.end(undefined);
  })();
  for await (const entry of extract) {
    out.push({ ...entry.header, content: (await collect(entry)).toString() });
  }
  await feeding;
  return out;
}
