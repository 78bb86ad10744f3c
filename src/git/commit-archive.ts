import fs from 'node:fs';
import git from 'isomorphic-git';
import tar from 'tar-stream';

/** The commit's tree is larger than a submission may be. */
export class TreeTooLarge extends Error {
  constructor(limit: number) {
    super(`the commit's files are larger than the limit of ${limit} bytes`);
    this.name = 'TreeTooLarge';
  }
}

const MTIME = new Date(0);

/**
 * A commit's tree, read from a local git directory, as a tar: files with their executable bit, symlinks
 * as symlinks (intake's archive check refuses those that point out), directories; submodules (commits
 * inside the tree) are left out. The tar grows past `maxBytes` → TreeTooLarge.
 */
export async function commitTar(gitdir: string, commitOid: string, maxBytes: number): Promise<Buffer> {
  const { commit } = await git.readCommit({ fs, gitdir, oid: commitOid });
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  let size = 0;
  pack.on('data', (data: unknown) => {
    const c = data as Buffer;
    chunks.push(c);
    size += c.length;
  });
  const ended = new Promise<void>((resolve, reject) => {
    pack.once('end', resolve);
    pack.once('error', reject);
  });
  const add = (header: Parameters<typeof pack.entry>[0], content?: Buffer) =>
    new Promise<void>((resolve, reject) => pack.entry(header, content ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));

  const walk = async (treeOid: string, prefix: string): Promise<void> => {
    const { tree } = await git.readTree({ fs, gitdir, oid: treeOid });
    for (const entry of tree) {
      const name = prefix + entry.path;
      if (entry.type === 'tree') {
        await add({ name: `${name}/`, type: 'directory', mode: 0o755, mtime: MTIME });
        await walk(entry.oid, `${name}/`);
      } else if (entry.type === 'blob') {
        const { blob } = await git.readBlob({ fs, gitdir, oid: entry.oid });
        const content = Buffer.from(blob);
        if (size + content.length > maxBytes) throw new TreeTooLarge(maxBytes);
        if (entry.mode === '120000') await add({ name, type: 'symlink', linkname: content.toString('utf8'), mode: 0o777, mtime: MTIME });
        else await add({ name, size: content.length, mode: entry.mode === '100755' ? 0o755 : 0o644, mtime: MTIME }, content);
      }
      // type 'commit': a submodule, whose files live in another repository.
      if (size > maxBytes) throw new TreeTooLarge(maxBytes);
    }
  };
  await walk(commit.tree, '');
  pack.finalize();
  await ended;
  const out = Buffer.concat(chunks);
  if (out.length > maxBytes) throw new TreeTooLarge(maxBytes);
  return out;
}
