import { describe, expect, it } from 'vitest';
import { archiveKind, checkArchive, type ArchiveLimits } from '../../src/archives/read-archive';
import { ArchiveRejected, safeEntryPath, safeLinkTarget } from '../../src/archives/safe-path';
import { submissionTar } from '../../src/archives/submission-tar';
import { listTar, makeEvilZip, makeTar, makeZip, makeZipBomb } from '../helpers/archives';

const limits: ArchiveLimits = { maxEntries: 50, maxExpandedBytes: 1024 * 1024 };

async function tarOf(name: string, content: Buffer, l = limits) {
  const t = submissionTar({ name, content }, l);
  const [entries] = await Promise.all([listTar(t.stream), t.done]);
  return entries;
}

async function rejection(name: string, content: Buffer, l = limits): Promise<string> {
  const kind = archiveKind(name)!;
  const err = await checkArchive(kind, content, l).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ArchiveRejected);
  // The host re-checks while re-packing, with the same verdict.
  const t = submissionTar({ name, content }, l);
  t.stream.resume();
  await expect(t.done).rejects.toBeInstanceOf(ArchiveRejected);
  return (err as Error).message;
}

describe('archive paths', () => {
  it('accepts plain relative paths and normalizes "./"', () => {
    expect(safeEntryPath('./src/main.c')).toBe('src/main.c');
    expect(safeEntryPath('a//b/')).toBe('a/b');
  });
  it.each([
    ['../evil', /outside/],
    ['a/../../evil', /outside/],
    ['/etc/passwd', /absolute/],
    ['C:/x', /absolute/],
    ['a\\b', /backslash/],
    ['a\nb', /control/],
    ['.', /empty/],
  ])('refuses %j', (p, message) => {
    expect(() => safeEntryPath(p)).toThrow(message);
  });
  it('keeps links inside the directory', () => {
    expect(safeLinkTarget('a/link', '../b', 'symlink')).toBe('../b');
    expect(() => safeLinkTarget('a/link', '../../etc', 'symlink')).toThrow(/outside/);
    expect(() => safeLinkTarget('link', '/etc/shadow', 'symlink')).toThrow(/outside/);
    expect(() => safeLinkTarget('link', '../etc/shadow', 'hardlink')).toThrow(/outside/);
  });
});

describe('archive kinds', () => {
  it('knows archives by name', () => {
    expect(archiveKind('a.ZIP')).toBe('zip');
    expect(archiveKind('a.tar')).toBe('tar');
    expect(archiveKind('a.tgz')).toBe('tar.gz');
    expect(archiveKind('a.tar.gz')).toBe('tar.gz');
    expect(archiveKind('a.gz')).toBeUndefined();
    expect(archiveKind('main.py')).toBeUndefined();
  });
});

describe('re-packing for the container', () => {
  it('passes a single file as it is, owned by root and read-only for the grader', async () => {
    const entries = await tarOf('main.py', Buffer.from('print(1)'));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ name: 'main.py', uid: 0, gid: 0, mode: 0o644, content: 'print(1)' });
  });

  it('extracts a zip with directories, executables and an inner symlink', async () => {
    const zip = await makeZip([
      { name: 'src/', type: 'directory' },
      { name: 'src/main.c', content: 'int main(){}' },
      { name: 'run.sh', content: '#!/bin/sh', mode: 0o100755 },
      { name: 'latest', type: 'symlink', linkname: 'src/main.c' },
    ]);
    const entries = await tarOf('work.zip', zip);
    expect(entries.map((e) => [e.name, e.type, e.mode, e.uid])).toEqual([
      ['src', 'directory', 0o755, 0],
      ['src/main.c', 'file', 0o644, 0],
      ['run.sh', 'file', 0o755, 0],
      ['latest', 'symlink', 0o777, 0],
    ]);
    expect(entries[1]!.content).toBe('int main(){}');
    expect(entries[3]!.linkname).toBe('src/main.c');
  });

  it('extracts a .tar.gz with a hardlink to an earlier file', async () => {
    const tgz = await makeTar(
      [
        { name: 'a.txt', content: 'A' },
        { name: 'b.txt', type: 'link', linkname: 'a.txt' },
      ],
      true,
    );
    const entries = await tarOf('work.tar.gz', tgz);
    expect(entries.map((e) => [e.name, e.type])).toEqual([
      ['a.txt', 'file'],
      ['b.txt', 'link'],
    ]);
    expect(await checkArchive('tar.gz', tgz, limits)).toEqual({ entries: 2, bytes: 1 });
  });
});

describe('hostile archives', () => {
  it('refuses path traversal in a tar', async () => {
    expect(await rejection('x.tar', await makeTar([{ name: '../../etc/cron.d/evil', content: 'x' }]))).toMatch(/outside the submission directory/);
  });
  it('refuses path traversal in a zip', async () => {
    expect(await rejection('x.zip', await makeEvilZip('../../../tmp/evil.sh'))).toMatch(/relative path|outside/);
  });
  it('refuses an absolute path', async () => {
    expect(await rejection('x.tar', await makeTar([{ name: '/etc/passwd', content: 'x' }]))).toMatch(/absolute|outside/);
  });
  it('refuses a symlink out of the directory, in a zip and in a tar', async () => {
    expect(await rejection('x.zip', await makeZip([{ name: 'l', type: 'symlink', linkname: '/etc/shadow' }]))).toMatch(/symlink "l" points outside/);
    expect(await rejection('x.tar', await makeTar([{ name: 'l', type: 'symlink', linkname: '../../..' }]))).toMatch(/points outside/);
  });
  it('refuses writing through a symlink', async () => {
    const tar = await makeTar([
      { name: 'd', type: 'symlink', linkname: 'sub' },
      { name: 'd/x', content: 'x' },
    ]);
    expect(await rejection('x.tar', tar)).toMatch(/beneath the symlink "d"/);
  });
  it('refuses a hardlink out of the directory', async () => {
    expect(await rejection('x.tar', await makeTar([{ name: 'h', type: 'link', linkname: '/etc/shadow' }]))).toMatch(/hardlink "h" points outside/);
  });
  it('refuses devices', async () => {
    expect(await rejection('x.tar', await makeTar([{ name: 'tty', type: 'character-device' }]))).toMatch(/device/);
  });
  it('refuses a path twice', async () => {
    const tar = await makeTar([{ name: 'a', content: '1' }, { name: './a', content: '2' }]);
    expect(await rejection('x.tar', tar)).toMatch(/appears twice/);
  });
  it('refuses too many entries', async () => {
    const many = Array.from({ length: 51 }, (_, i) => ({ name: `f${i}`, content: '' }));
    expect(await rejection('x.zip', await makeZip(many))).toMatch(/more than 50 entries/);
    expect(await rejection('x.tar', await makeTar(many))).toMatch(/more than 50 entries/);
  });
  it('refuses a zip bomb', async () => {
    const bomb = await makeZipBomb(16 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(await rejection('bomb.zip', bomb)).toMatch(/expands to more than 1048576 bytes/);
  });
  it('refuses a gzip bomb', async () => {
    const bomb = await makeTar([{ name: 'zeros', content: Buffer.alloc(16 * 1024 * 1024) }], true);
    expect(await rejection('bomb.tar.gz', bomb)).toMatch(/expands to more than 1048576 bytes/);
  });
  it('refuses what is not an archive at all', async () => {
    expect(await rejection('x.zip', Buffer.from('not a zip'))).toMatch(/not a readable zip archive/);
    expect(await rejection('x.tar.gz', Buffer.from('not gzip'))).toMatch(/not a readable tar.gz archive/);
  });
});
