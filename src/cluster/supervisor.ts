import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Dockerode from 'dockerode';
import type { GradeflowConfig } from '../config/schema';
import { daemonConfig } from '../setup/docker';
import { freePort } from '../setup/free-port';
import { PROJECT_ROOT, say } from '../setup/paths';
import { startPostgres, type TempPostgres } from '../setup/postgres';
import { startRegistry, type RegistryAuth, type RunningRegistry } from '../setup/registry';
import { pushGraderImages } from './images';
import { fileSize, killAndWait, logHas, pause, pidAlive, spawnLogged, unmountIfMounted, waitReady } from './processes';
import { generatedPrivacyEnv, generatedSecretFiles } from '../privacy/generated-secrets';
import { startTemporal, temporalLogFile, type ClusterTemporal } from './temporal';

const BIN = path.join(PROJECT_ROOT, 'bin', 'gradeflow.js');

export const ROLES = ['postgres', 'temporal', 'registry', 'server', 'host', 'worker', 'dockerd'] as const;
export type Role = (typeof ROLES)[number];

export interface ClusterOptions {
  config: GradeflowConfig;
  /** Everything the cluster keeps: data, sockets, logs. */
  dir: string;
  stateFile: string;
  hosts: number;
  servers: number;
  /** First server's port (the others follow); 0: free ports. */
  apiPort: number;
  /** 0: a free port. */
  temporalPort: number;
  /** 0: a free port. */
  postgresPort: number;
  /** The registry's port on 127.0.0.1; 0: a free port. */
  registryPort: number;
}

/** One supervised process. `up` is what the supervisor last saw; `busy` while it starts or stops it. */
interface Part {
  name: string;
  logFile: string;
  pid?: number;
  up: boolean;
  busy: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface Host {
  hostId: string;
  dockerHost: string;
  healthUrl: string;
  dockerd: Part;
  worker: Part;
}

export const controlSocket = (dir: string): string => path.join(dir, 'control.sock');

/** The environment variable that hands the cluster registry's password to its servers and workers (never a file). */
const REGISTRY_PASSWORD_ENV = 'GRADEFLOW_CLUSTER_REGISTRY_PASSWORD';

/**
 * `gradeflow cluster`'s supervisor: starts the parts in order, watches their PIDs (every 500 ms), marks a
 * part that died down in the state file without touching the rest, restarts parts on request from its
 * control socket, and stops everything in order.
 */
export class ClusterSupervisor {
  private readonly o: ClusterOptions;
  private readonly logs: string;
  private readonly workerToken: string;
  /** The registry's htpasswd account: servers resolve tags and hosts pull with it. */
  private readonly registryAuth: RegistryAuth;
  /** GRADEFLOW_PAYLOAD_KEY_FILE and GRADEFLOW_CODEC_TOKEN for servers and hosts, generated once into the cluster's directory. */
  private readonly privacyEnv: Record<string, string>;
  private postgresUrl = '';
  private temporalAddress = '';
  private ports = { api: [] as number[], temporal: 0, postgres: 0, registry: 0, health: [] as number[] };
  private registryAddress = '';
  private postgres!: Part;
  private temporal!: Part;
  private registry!: Part;
  private servers: Array<Part & { url: string }> = [];
  private hosts: Host[] = [];
  private watch?: NodeJS.Timeout;
  private control?: net.Server;
  private stopping = false;
  private queue: Promise<unknown> = Promise.resolve();
  private starting?: Promise<void>;

  constructor(o: ClusterOptions) {
    this.o = o;
    this.logs = path.join(o.dir, 'logs');
    this.workerToken = o.config.workerToken ?? randomBytes(24).toString('base64url');
    this.registryAuth = { username: 'gradeflow-cluster', password: randomBytes(18).toString('base64url') };
    this.privacyEnv = generatedPrivacyEnv(o.dir, o.config, 'cluster');
  }

  /**
   * Start everything; on failure stop what started and throw (naming the part and its log). A `stop()`
   * meanwhile lets the parts being started come up, then stops them all (start rejects: "stopped").
   */
  start(): Promise<void> {
    this.starting = this.startAll();
    return this.starting;
  }

  private async startAll(): Promise<void> {
    mkdirSync(this.logs, { recursive: true });
    rmSync(this.o.stateFile, { force: true });
    const phase = async (parts: Array<() => Promise<void>>): Promise<void> => {
      if (this.stopping) throw new Error('stopped while starting');
      const results = await Promise.allSettled(parts.map((p) => p()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    };
    try {
      await this.choosePorts();
      this.writeConfigs();
      this.makeParts();
      await phase([
        // The registry holds the example graders (pushed once) before any host or server needs them.
        async () => {
          await phase([() => this.startPart(this.registry)]);
          await pushGraderImages(this.registryAddress, this.registryAuth);
        },
        async () => {
          // Temporal keeps its state in the cluster's PostgreSQL: it starts once that answers.
          await phase([() => this.startPart(this.postgres)]);
          await phase([() => this.startPart(this.temporal)]);
          // The first server migrates the database; the others then start side by side.
          await phase([() => this.startPart(this.servers[0]!)]);
          await phase(this.servers.slice(1).map((s) => () => this.startPart(s)));
        },
        ...this.hosts.map((h) => () => this.startPart(h.dockerd)),
      ]);
      await phase(this.hosts.map((h) => () => this.startPart(h.worker)));
      await this.listen();
      if (this.stopping) throw new Error('stopped while starting');
    } catch (err) {
      if (!this.stopping) {
        say(`cluster failed to start: ${(err as Error).message}; stopping what started…`);
        this.stopping = true;
        await this.stopParts();
      }
      throw err;
    }
    this.watch = setInterval(() => this.check(), 500);
    this.writeState();
    say(`cluster is up: ${this.servers.map((s) => s.url).join(', ')}; state in ${this.o.stateFile}`);
  }

  /**
   * Every port the cluster's parts listen on, all different: a port given on the command line is kept,
   * the others are free ports other than those (nothing listens on a given port until its part starts, so
   * the OS may offer it again).
   */
  private async choosePorts(): Promise<void> {
    const given = [this.o.temporalPort, this.o.postgresPort, this.o.registryPort].filter((p) => p !== 0);
    if (this.o.apiPort !== 0) for (let i = 0; i < this.o.servers; i++) given.push(this.o.apiPort + i);
    const taken = new Set(given);
    const free = async (): Promise<number> => {
      for (;;) {
        const port = await freePort();
        if (!taken.has(port)) {
          taken.add(port);
          return port;
        }
      }
    };
    const pick = async (port: number): Promise<number> => (port === 0 ? free() : port);
    this.ports.temporal = await pick(this.o.temporalPort);
    this.ports.postgres = await pick(this.o.postgresPort);
    this.ports.registry = await pick(this.o.registryPort);
    for (let i = 0; i < this.o.hosts; i++) this.ports.health.push(await free());
    this.registryAddress = `127.0.0.1:${this.ports.registry}`;
    for (let i = 0; i < this.o.servers; i++) this.ports.api.push(this.o.apiPort === 0 ? await free() : this.o.apiPort + i);
    this.postgresUrl = `postgres://postgres@127.0.0.1:${this.ports.postgres}/postgres`;
    this.temporalAddress = `127.0.0.1:${this.ports.temporal}`;
  }

  private serverConfigFile = (): string => path.join(this.o.dir, 'config.json');
  private hostConfigFile = (i: number): string => path.join(this.o.dir, `host-${i + 1}`, 'config.json');

  /**
   * The config files of the servers and workers: the caller's config (GRADEFLOW_CONFIG and environment,
   * resolved) plus the cluster registry in `registries` (its password by environment variable, never in a
   * file), and for each worker its health endpoint on a free loopback port.
   */
  private writeConfigs(): void {
    const registries = [
      ...this.o.config.registries.filter((r) => r.host !== this.registryAddress),
      { host: this.registryAddress, username: this.registryAuth.username, passwordEnv: REGISTRY_PASSWORD_ENV },
    ];
    const write = (file: string, config: object): void => {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
    };
    write(this.serverConfigFile(), { ...this.o.config, registries });
    this.ports.health.forEach((port, i) =>
      write(this.hostConfigFile(i), { ...this.o.config, registries, worker: { ...this.o.config.worker, healthHost: '127.0.0.1', healthPort: port } }),
    );
  }

  /** The environment of a `gradeflow server` or `worker`: the caller's, pointed at the cluster and its config file. */
  private childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ['DOCKER_HOST', 'GRADEFLOW_HOST_ID', 'GRADEFLOW_PUBLIC_URL', 'GRADEFLOW_API_PORT']) delete env[k];
    return {
      ...env,
      GRADEFLOW_CONFIG: this.serverConfigFile(),
      [REGISTRY_PASSWORD_ENV]: this.registryAuth.password,
      DATABASE_URL: this.postgresUrl,
      TEMPORAL_ADDRESS: this.temporalAddress,
      TEMPORAL_NAMESPACE: this.o.config.temporal.namespace,
      GRADEFLOW_WORKER_TOKEN: this.workerToken,
      // The payload key and codec token (src/privacy/generated-secrets.ts): by environment, never in a config file.
      ...this.privacyEnv,
      ...extra,
    };
  }

  private makeParts(): void {
    const { dir, config } = this.o;
    let pg: TempPostgres | undefined;
    this.postgres = this.part('postgres', path.join(dir, 'postgres', 'log'), async (p) => {
      // After a SIGKILL the old backends may hold the shared memory a moment longer: try again.
      for (let i = 1; ; i++) {
        try {
          pg = await startPostgres({ dir: path.join(dir, 'postgres'), port: this.ports.postgres });
          break;
        } catch (err) {
          if (i === 5) throw err;
          await pause(2000);
        }
      }
      p.pid = pg.pid;
    }, async () => {
      await pg?.stop();
      await killAndWait(this.postgres.pid, 10_000);
    });

    let temporal: ClusterTemporal | undefined;
    const temporalDir = path.join(dir, 'temporal');
    mkdirSync(temporalDir, { recursive: true });
    this.temporal = this.part('temporal', temporalLogFile(temporalDir), async (p) => {
      temporal = await startTemporal({ dir: temporalDir, port: this.ports.temporal, namespace: config.temporal.namespace, postgresUrl: this.postgresUrl });
      p.pid = temporal.pid;
    }, async () => {
      await temporal?.stop();
      await killAndWait(this.temporal.pid, 10_000);
    });

    let registry: RunningRegistry | undefined;
    const registryDir = path.join(dir, 'registry');
    this.registry = this.part('registry', path.join(registryDir, 'registry.log'), async (p) => {
      // Its storage stays across restarts: the images pushed at the cluster's start are still there.
      registry = await startRegistry({ port: this.ports.registry, dir: registryDir, auth: this.registryAuth, detached: true });
      p.pid = registry.pid;
    }, async () => {
      await registry?.stop();
      await killAndWait(this.registry.pid, 5_000);
    });

    this.servers = this.ports.api.map((port, i) => {
      const url = `http://127.0.0.1:${port}`;
      const logFile = path.join(this.logs, `server-${i + 1}.log`);
      const server = this.part(`server ${i + 1}`, logFile, async (p) => {
        const dataDir = path.join(dir, `server-${i + 1}`);
        mkdirSync(dataDir, { recursive: true });
        const env = this.childEnv({ GRADEFLOW_API_PORT: String(port), GRADEFLOW_API_HOST: '127.0.0.1', GRADEFLOW_DATA_DIR: dataDir });
        p.pid = spawnLogged(process.execPath, [BIN, 'server'], env, logFile);
        await waitReady(p.name, p.pid, logFile, () =>
          fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status === 200, () => false),
        );
      }, async () => {
        await killAndWait(server.pid, 60_000);
      });
      return Object.assign(server, { url });
    });

    // A worker logs its readiness at info: it logs at least that much here.
    const quiet = ['fatal', 'error', 'warn', 'silent'].includes(config.logLevel);
    this.hosts = Array.from({ length: this.o.hosts }, (_, i) => {
      const hostId = `host-${i + 1}`;
      const hostDir = path.join(dir, hostId);
      const sock = path.join(hostDir, 'docker.sock');
      const pidfile = path.join(hostDir, 'dockerd.pid');
      const execRoot = path.join(hostDir, 'exec');
      const dockerHost = `unix://${sock}`;
      const healthUrl = `http://127.0.0.1:${this.ports.health[i]}/healthz`;
      const docker = new Dockerode({ socketPath: sock });
      const dockerdLog = path.join(this.logs, `dockerd-${i + 1}.log`);
      const dockerd = this.part(`dockerd ${i + 1}`, dockerdLog, async (p) => {
        if (path.join(execRoot, 'containerd', 'containerd.sock.ttrpc').length > 100) {
          throw new Error(`the cluster directory ${dir} is too long for dockerd's unix sockets; choose a shorter --dir`);
        }
        const args = [
          '--host', dockerHost,
          '--data-root', path.join(hostDir, 'data'),
          '--exec-root', execRoot,
          '--pidfile', pidfile,
          '--bridge=none', '--iptables=false', '--ip6tables=false',
          `--config-file=${daemonConfig(hostDir)}`,
        ];
        p.pid = spawnLogged('dockerd', args, process.env, dockerdLog);
        // It starts empty: its grading host pulls each grader image from the cluster registry on first need.
        await waitReady(p.name, p.pid, dockerdLog, () => docker.ping().then(() => true, () => false));
      }, async () => {
        if (pidAlive(dockerd.pid)) {
          // Containers first: a daemon stopped with containers running leaves their shims behind.
          const containers = await docker.listContainers({ all: true }).catch(() => []);
          await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
        }
        const fromFile = existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8').trim()) : undefined;
        await killAndWait(fromFile || dockerd.pid, 30_000);
        await killAndWait(dockerd.pid, 5_000);
        unmountIfMounted(path.join(hostDir, 'data'));
      });

      const workerLog = path.join(this.logs, `worker-${i + 1}.log`);
      // Each host fetches large submission files from one server, spread over them.
      const serverUrl = `http://127.0.0.1:${this.ports.api[i % this.ports.api.length]}`;
      const worker = this.part(`worker ${i + 1}`, workerLog, async (p) => {
        const env = this.childEnv({
          GRADEFLOW_CONFIG: this.hostConfigFile(i),
          DOCKER_HOST: dockerHost,
          GRADEFLOW_HOST_ID: hostId,
          GRADEFLOW_PUBLIC_URL: serverUrl,
          GRADEFLOW_DATA_DIR: hostDir,
          ...(quiet ? { GRADEFLOW_LOG_LEVEL: 'info' } : {}),
        });
        const offset = fileSize(workerLog);
        p.pid = spawnLogged(process.execPath, [BIN, 'worker'], env, workerLog);
        // Up once it polls and its /healthz answers 200 (its Docker engine answers, its workers run).
        await waitReady(p.name, p.pid, workerLog, async () =>
          logHas(workerLog, offset, 'grading host polling') &&
          fetch(healthUrl, { signal: AbortSignal.timeout(3000) }).then((r) => r.status === 200, () => false),
        );
      }, async () => {
        await killAndWait(worker.pid, (config.worker.shutdownGraceSeconds + 30) * 1000);
      });
      return { hostId, dockerHost, healthUrl, dockerd, worker };
    });
  }

  private part(name: string, logFile: string, start: (p: Part) => Promise<void>, stop: () => Promise<void>): Part {
    const p: Part = {
      name,
      logFile,
      up: false,
      busy: false,
      start: () => start(p),
      stop,
    };
    return p;
  }

  private async startPart(p: Part): Promise<void> {
    p.busy = true;
    say(`${p.name}: starting (log: ${p.logFile})…`);
    try {
      await p.start();
      p.up = true;
      say(`${p.name}: up (pid ${p.pid})`);
    } catch (err) {
      const message = (err as Error).message;
      throw new Error(`${p.name} could not start: ${message}${message.includes(p.logFile) ? '' : `; see ${p.logFile}`}`);
    } finally {
      p.busy = false;
    }
  }

  private async stopPart(p: Part): Promise<void> {
    p.busy = true;
    try {
      await p.stop();
    } catch (err) {
      say(`${p.name}: stopping failed: ${(err as Error).message}`);
    } finally {
      p.up = false;
      p.busy = false;
    }
  }

  private allParts(): Part[] {
    return [this.postgres, this.temporal, this.registry, ...this.servers, ...this.hosts.flatMap((h) => [h.dockerd, h.worker])];
  }

  /** A part that died is a fault to survive: note it, keep the rest. */
  private check(): void {
    if (this.stopping) return;
    let changed = false;
    for (const p of this.allParts()) {
      if (p.up && !p.busy && !pidAlive(p.pid)) {
        p.up = false;
        changed = true;
        const [role, index] = p.name.split(' ');
        say(`${p.name} (pid ${p.pid}) exited; the rest keeps running. Start it again: gradeflow cluster restart ${role}${index ? ` ${index}` : ''} --dir ${this.o.dir}  (log: ${p.logFile})`);
      }
    }
    if (changed) this.writeState();
  }

  /** Stop (if running) and start one part again; one request at a time. */
  restart(role: Role, index: number): Promise<string> {
    const run = async (): Promise<string> => {
      if (this.stopping) throw new Error('the cluster is stopping');
      const pick = <T>(list: T[], what: string): T => {
        const item = list[index - 1];
        if (!item) throw new Error(`there is no ${what} ${index} (1..${list.length})`);
        return item;
      };
      let parts: Part[];
      if (role === 'postgres') parts = [this.postgres];
      else if (role === 'temporal') parts = [this.temporal];
      else if (role === 'registry') parts = [this.registry];
      else if (role === 'server') parts = [pick(this.servers, 'server')];
      else if (role === 'dockerd') parts = [pick(this.hosts, 'host').dockerd];
      else {
        // host / worker: its grading process, and its daemon first when that is down too.
        const host = pick(this.hosts, 'host');
        parts = pidAlive(host.dockerd.pid) ? [host.worker] : [host.dockerd, host.worker];
      }
      for (const p of parts) {
        if (pidAlive(p.pid)) {
          say(`${p.name}: stopping for the restart…`);
          await this.stopPart(p);
        }
        try {
          await this.startPart(p);
        } finally {
          this.writeState();
        }
      }
      return parts.map((p) => `${p.name} is up (pid ${p.pid})`).join('; ');
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Stop everything it started: grading hosts, then their daemons (containers removed first), servers, Temporal, PostgreSQL. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watch) clearInterval(this.watch);
    // A start in progress ends first (its parts up, or stopped when it failed); stopping twice is harmless.
    await this.starting?.catch(() => undefined);
    await this.queue;
    await this.stopParts();
  }

  private async stopParts(): Promise<void> {
    const started = (p: Part | undefined): p is Part => p !== undefined && p.pid !== undefined;
    await Promise.all(this.hosts.map((h) => h.worker).filter(started).map((p) => this.stopPart(p)));
    await Promise.all(this.hosts.map((h) => h.dockerd).filter(started).map((p) => this.stopPart(p)));
    await Promise.all([...this.servers, this.registry].filter(started).map((p) => this.stopPart(p)));
    for (const p of [this.temporal, this.postgres].filter(started)) await this.stopPart(p);
    this.control?.close();
    rmSync(controlSocket(this.o.dir), { force: true });
    rmSync(this.o.stateFile, { force: true });
  }

  /** The control socket: one JSON request per line, `{"command":"restart","role":"host","index":1}`; one JSON answer. */
  private async listen(): Promise<void> {
    const file = controlSocket(this.o.dir);
    rmSync(file, { force: true });
    this.control = net.createServer((socket) => {
      let buffer = '';
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => {
        buffer += chunk.toString('utf8');
        const nl = buffer.indexOf('\n');
        if (nl < 0) return;
        const line = buffer.slice(0, nl);
        buffer = '';
        const answer = (body: object): void => void socket.end(`${JSON.stringify(body)}\n`);
        let request: { command?: unknown; role?: unknown; index?: unknown };
        try {
          request = JSON.parse(line) as typeof request;
        } catch {
          return answer({ ok: false, error: 'not JSON' });
        }
        const role = request.role as Role;
        const index = request.index === undefined ? 1 : Number(request.index);
        if (request.command !== 'restart' || !ROLES.includes(role) || !Number.isInteger(index)) {
          return answer({ ok: false, error: `expected {"command":"restart","role":${ROLES.map((r) => `"${r}"`).join('|')},"index":N}` });
        }
        this.restart(role, index).then(
          (message) => answer({ ok: true, message }),
          (err: Error) => answer({ ok: false, error: err.message }),
        );
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.control!.once('error', reject);
      this.control!.listen(file, () => resolve());
    });
  }

  /** The state file, written whole (temp file + rename) so a reader never sees half of it. */
  private writeState(): void {
    if (this.stopping) return;
    const down = this.allParts().filter((p) => !p.up).map((p) => p.name);
    const state = {
      api: this.servers.map((s) => s.url),
      temporal: { address: this.temporalAddress, namespace: this.o.config.temporal.namespace },
      registry: this.registryAddress,
      database: this.postgresUrl,
      control: controlSocket(this.o.dir),
      supervisorPid: process.pid,
      logs: this.logs,
      // Where the Temporal UI or CLI decodes payloads (--codec-endpoint), and the file with the token it needs.
      codec: { endpoints: this.servers.map((s) => `${s.url}/codec`), tokenFile: this.privacyEnv.GRADEFLOW_CODEC_TOKEN ? generatedSecretFiles(this.o.dir).codecToken : null },
      processes: {
        postgres: this.postgres.pid ?? null,
        temporal: this.temporal.pid ?? null,
        registry: this.registry.pid ?? null,
        registryUp: this.registry.up,
        servers: this.servers.map((s) => ({ url: s.url, pid: s.pid ?? null, up: s.up })),
        hosts: this.hosts.map((h) => ({
          hostId: h.hostId,
          dockerHost: h.dockerHost,
          healthUrl: h.healthUrl,
          dockerdPid: h.dockerd.pid ?? null,
          workerPid: h.worker.pid ?? null,
          dockerdUp: h.dockerd.up,
          workerUp: h.worker.up,
        })),
      },
      down,
    };
    const tmp = `${this.o.stateFile}.tmp`;
    mkdirSync(path.dirname(this.o.stateFile), { recursive: true });
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(tmp, this.o.stateFile);
  }
}

/** `gradeflow cluster restart`: ask the running supervisor over its control socket; resolves with its answer. */
export function requestRestart(socketFile: string, role: Role, index: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketFile);
    let reply = '';
    socket.on('connect', () => socket.write(`${JSON.stringify({ command: 'restart', role, index })}\n`));
    socket.on('data', (c) => (reply += c.toString('utf8')));
    socket.on('error', (err) => reject(new Error(`no cluster answers on ${socketFile} (${err.message}); is \`gradeflow cluster\` running with this --dir?`)));
    socket.on('end', () => {
      try {
        const answer = JSON.parse(reply) as { ok: boolean; message?: string; error?: string };
        if (answer.ok) resolve(answer.message ?? 'done');
        else reject(new Error(answer.error ?? 'failed'));
      } catch {
        reject(new Error(`unexpected answer from the cluster: ${reply}`));
      }
    });
  });
}
