import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isRoot } from './run';

/** Directory of the newest PostgreSQL server binaries (Debian layout), if installed. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

export interface TempPostgres {
  url: string;
  /** The postmaster's pid (its backends are its children). */
  pid: number;
  stop(): Promise<void>;
}

/** A PostgreSQL cluster in `dir` (made with initdb when `dir/data` is absent) on a loopback port. */
export interface PostgresOptions {
  dir: string;
  port: number;
  /** Tests: no fsync (faster, not crash-safe). */
  noFsync?: boolean;
}

const asPg = (cmd: string, args: string[]): [string, string[]] =>
  isRoot() ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];

function binDir(): string {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found (run: gradeflow setup --for test)');
  return bin;
}

/**
 * Start PostgreSQL on 127.0.0.1:`port` with its data in `dir/data` (initdb'd first when absent) and its
 * log at `dir/log`. initdb refuses root, so as root it runs as the `postgres` user. `stop()` stops it
 * (fast shutdown) and keeps the data.
 */
export async function startPostgres(o: PostgresOptions): Promise<TempPostgres> {
  const bin = binDir();
  mkdirSync(o.dir, { recursive: true });
  chmodSync(o.dir, 0o777);
  const data = path.join(o.dir, 'data');
  const sync = (cmd: string, args: string[]): void => {
    const [c, a] = asPg(cmd, args);
    const r = spawnSync(c, a, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${path.basename(cmd)} failed: ${(r.stderr || r.stdout).trim()}`);
  };
  if (isRoot() && spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-w', o.dir]).status !== 0) {
    throw new Error(`the postgres user cannot write to ${o.dir}: make its parent directories traversable (chmod o+x) or choose another directory`);
  }
  if (!existsSync(path.join(data, 'PG_VERSION'))) {
    sync(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', ...(o.noFsync ? ['--no-sync'] : [])]);
  }
  const logFile = path.join(o.dir, 'log');
  const opts = `-p ${o.port} -k ${o.dir} -c listen_addresses=127.0.0.1${o.noFsync ? ' -c fsync=off' : ''}`;
  const [c, a] = asPg(path.join(bin, 'pg_ctl'), ['-D', data, '-l', logFile, '-w', '-o', opts, 'start']);
  await new Promise<void>((resolve, reject) => {
    // Its own session: a Ctrl-C meant for the parent does not reach the postmaster.
    const child = spawn(c, a, { stdio: 'ignore', detached: true });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pg_ctl start exited with ${code}; see ${logFile}`))));
  });
  return {
    url: `postgres://postgres@127.0.0.1:${o.port}/postgres`,
    pid: Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]),
    async stop() {
      const [sc, sa] = asPg(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
      spawnSync(sc, sa);
    },
  };
}

/** A throwaway PostgreSQL cluster on a loopback port, for tests. `stop()` stops it and deletes its directory. */
export async function startTempPostgres(port: number): Promise<TempPostgres> {
  binDir();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-pg-'));
  const pg = await startPostgres({ dir, port, noFsync: true });
  return {
    ...pg,
    async stop() {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
