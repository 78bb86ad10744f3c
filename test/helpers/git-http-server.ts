import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ensureGit } from '../../src/setup/git';

/** A repository served by the test's git server, and a working copy to commit to it from. */
export interface ServedRepository {
  /** The path with its namespace: `course/lab1-alice`. */
  path: string;
  /** Write files (path → content; executable when the path ends in `.sh`), commit them, push; returns the commit's id. */
  commit(files: Record<string, string>, message: string, branch?: string): string;
}

export interface GitHttpServer {
  /** http://127.0.0.1:PORT (a repository `a/b` is at <url>/a/b.git). */
  url: string;
  username: string;
  password: string;
  /** Requests answered, by `METHOD path` (to check a repeated delivery fetched nothing). */
  requests: string[];
  /** Pack requests (`POST …/git-upload-pack`) being answered at once, at most, since the last reset. */
  maxPackRequestsInFlight: number;
  /** Each pack request waits this long before it is answered (to make overlapping fetches visible). */
  packDelayMs: number;
  createRepository(repoPath: string, defaultBranch?: string): ServedRepository;
  stop(): Promise<void>;
}

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'Student', GIT_AUTHOR_EMAIL: 'student@example.edu', GIT_COMMITTER_NAME: 'Student', GIT_COMMITTER_EMAIL: 'student@example.edu', GIT_CONFIG_NOSYSTEM: '1', HOME: cwd },
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * Git's own smart HTTP server on loopback: `git http-backend` run as a CGI program for each request by a
 * tiny Node HTTP server, behind HTTP basic authentication (as GitLab and GitHub answer 401 without a token).
 */
export async function startGitHttpServer(): Promise<GitHttpServer> {
  const backend = await ensureGit();
  const root = mkdtempSync(path.join(os.tmpdir(), 'gradeflow-git-server-'));
  const projects = path.join(root, 'projects');
  mkdirSync(projects);
  const username = 'gradeflow-reader';
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const expectedAuth = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const requests: string[] = [];

  let packsInFlight = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    if (req.headers.authorization !== expectedAuth) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end();
      return;
    }
    const pack = req.method === 'POST' && url.pathname.endsWith('/git-upload-pack');
    if (pack) {
      packsInFlight++;
      served.maxPackRequestsInFlight = Math.max(served.maxPackRequestsInFlight, packsInFlight);
      res.once('close', () => packsInFlight--);
    }
    if (pack && served.packDelayMs > 0) {
      req.pause();
      setTimeout(() => answer(req, res, url), served.packDelayMs);
    } else {
      answer(req, res, url);
    }
  });
  const answer = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    const cgi = spawn(backend, [], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: projects,
        GIT_HTTP_EXPORT_ALL: '1',
        REQUEST_METHOD: req.method,
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_USER: username,
        REMOTE_ADDR: '127.0.0.1',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_HTTP_MAX_REQUEST_BUFFER: '100M',
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on('end', () => res.end());
    cgi.on('error', () => res.destroy());
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const served: GitHttpServer = {
    url,
    username,
    password,
    requests,
    maxPackRequestsInFlight: 0,
    packDelayMs: 0,
    createRepository(repoPath, defaultBranch = 'main') {
      const bare = path.join(projects, `${repoPath}.git`);
      mkdirSync(bare, { recursive: true });
      git(bare, 'init', '--bare', '-q', `--initial-branch=${defaultBranch}`);
      const work = mkdtempSync(path.join(root, 'work-'));
      git(work, 'init', '-q', `--initial-branch=${defaultBranch}`);
      git(work, 'remote', 'add', 'origin', bare);
      return {
        path: repoPath,
        commit(files, message, branch = defaultBranch) {
          const current = git(work, 'symbolic-ref', '--short', 'HEAD');
          if (current !== branch) git(work, 'checkout', '-q', '-B', branch);
          for (const [name, content] of Object.entries(files)) {
            const file = path.join(work, name);
            mkdirSync(path.dirname(file), { recursive: true });
            writeFileSync(file, content, { mode: name.endsWith('.sh') ? 0o755 : 0o644 });
          }
          git(work, 'add', '-A');
          git(work, 'commit', '-q', '-m', message);
          git(work, 'push', '-q', 'origin', `HEAD:refs/heads/${branch}`);
          return git(work, 'rev-parse', 'HEAD');
        },
      };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  };
  return served;
}
