import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

/** An archive made the usual way: files in a scratch directory, then the real `tar` or `zip` command. */
function withDir<T>(fill: (dir: string) => void, pack: (dir: string, out: string) => T): T {
  const root = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-archive-'));
  try {
    const dir = path.join(root, 'sub');
    mkdirSync(dir);
    fill(dir);
    return pack(dir, path.join(root, 'out'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
const realTgz = (fill: (dir: string) => void): Buffer =>
  withDir(fill, (dir, out) => {
    execFileSync('tar', ['czf', out, '-C', dir, '.']);
    return execFileSync('cat', [out]);
  });

describe('archives made the usual way (attack report row 263)', () => {
  const fill = (dir: string) => {
    mkdirSync(path.join(dir, 'src'));
    writeFileSync(path.join(dir, 'src', 'main.sh'), 'echo hi\n', { mode: 0o755 });
  };

  it('accepts `tar czf sub.tgz -C dir .` made by the real tar command: its "./" entry is the directory itself', async () => {
    const tgz = realTgz(fill);
    const entries = await tarOf('sub.tgz', tgz);
    expect(entries.map((e) => [e.name, e.type])).toEqual([
      ['src', 'directory'],
      ['src/main.sh', 'file'],
    ]);
    expect(entries[1]).toMatchObject({ mode: 0o755, content: 'echo hi\n' });
    expect(await checkArchive('tar.gz', tgz, limits)).toEqual({ entries: 2, bytes: 8 });
  });

  it('accepts the same entries written by tar-stream, "./" and "." alike, in a tar and a zip', async () => {
    for (const dot of ['./', '.']) {
      const tar = await makeTar([
        { name: dot, type: 'directory' },
        { name: './src/', type: 'directory' },
        { name: './src/main.sh', content: 'echo hi' },
      ]);
      expect((await tarOf('sub.tar', tar)).map((e) => e.name)).toEqual(['src', 'src/main.sh']);
    }
    const zip = await makeZip([
      { name: './', type: 'directory' },
      { name: './src/main.sh', content: 'echo hi' },
    ]);
    expect((await tarOf('sub.zip', zip)).map((e) => e.name)).toEqual(['src/main.sh']);
  });

  it('still refuses "./" as anything but a directory', async () => {
    expect(await rejection('x.tar', await makeTar([{ name: './', type: 'symlink', linkname: 'x' }]))).toMatch(/empty path/);
  });
});

describe('symlink chains, resolved through each other (attack report rows 235 and 261)', () => {
  const chain = [
    { name: 'a', type: 'symlink' as const, linkname: '.' },
    { name: 'b', type: 'symlink' as const, linkname: 'a/..' },
    { name: 'c', type: 'symlink' as const, linkname: 'b/etc/passwd' },
    { name: 'main.sh', content: 'echo hi' },
  ];

  it('refuses a -> ., b -> a/.. (b is the directory above), in a zip and in a tar', async () => {
    expect(await rejection('x.zip', await makeZip(chain))).toMatch(/symlink "b" points outside the submission directory/);
    expect(await rejection('x.tar', await makeTar(chain.slice(0, 2)))).toMatch(/symlink "b" points outside/);
  });

  it('refuses it whatever the order: a link declared later counts', async () => {
    const reversed = [chain[2]!, chain[1]!, chain[0]!];
    expect(await rejection('x.tar', await makeTar(reversed))).toMatch(/symlink "(c|b)" points outside/);
    expect(await rejection('x.zip', await makeZip(reversed))).toMatch(/points outside/);
  });

  it('refuses a chain through a subdirectory that climbs out', async () => {
    const tar = await makeTar([
      { name: 'd/', type: 'directory' },
      { name: 'd/up', type: 'symlink', linkname: '..' },
      { name: 'd/e/', type: 'directory' },
      { name: 'd/e/out', type: 'symlink', linkname: '../up/..' },
    ]);
    expect(await rejection('x.tar', tar)).toMatch(/symlink "d\/e\/out" points outside/);
  });

  it('refuses loops, in a zip and in a tar', async () => {
    const loop = [
      { name: 'x', type: 'symlink' as const, linkname: 'y' },
      { name: 'y', type: 'symlink' as const, linkname: 'x' },
    ];
    expect(await rejection('x.zip', await makeZip(loop))).toMatch(/symlink "x" loops/);
    expect(await rejection('x.tar', await makeTar(loop))).toMatch(/loops/);
    expect(await rejection('x.tar', await makeTar([{ name: 'self', type: 'symlink', linkname: 'self/x' }]))).toMatch(/loops/);
  });

  it('accepts a deep but legal chain, through directories and back up inside', async () => {
    const links = Array.from({ length: 30 }, (_, i) => ({
      name: `l${i}`,
      type: 'symlink' as const,
      linkname: i === 29 ? 'd/e/../e/main.sh' : `d/../l${i + 1}`,
    }));
    const entries = [
      { name: 'd/', type: 'directory' as const },
      { name: 'd/e/', type: 'directory' as const },
      { name: 'd/e/main.sh', content: 'echo hi' },
      { name: 'd/e/back', type: 'symlink' as const, linkname: '../../l0' },
      { name: 'd/self', type: 'symlink' as const, linkname: '.' },
      { name: 'd/e/via', type: 'symlink' as const, linkname: '../self/self/e/main.sh' },
      ...links,
    ];
    const tar = await makeTar(entries, true);
    expect((await tarOf('ok.tar.gz', tar, { ...limits })).map((e) => e.name)).toContain('d/e/via');
    expect((await checkArchive('zip', await makeZip(entries), limits)).entries).toBe(entries.length);
  });

  it('refuses a chain longer than the kernel follows (40 links)', async () => {
    const links = Array.from({ length: 42 }, (_, i) => ({ name: `l${i}`, type: 'symlink' as const, linkname: i === 41 ? 'f' : `l${i + 1}` }));
    expect(await rejection('x.tar', await makeTar([{ name: 'f', content: '' }, ...links]))).toMatch(/symlink "l0" loops/);
  });

  it('refuses the chain packed by the real tar command from real links', async () => {
    const tgz = realTgz((dir) => {
      symlinkSync('.', path.join(dir, 'a'));
      symlinkSync('a/..', path.join(dir, 'b'));
      writeFileSync(path.join(dir, 'main.sh'), 'echo hi');
    });
    expect(await rejection('x.tgz', tgz)).toMatch(/symlink "b" points outside/);
  });
});
