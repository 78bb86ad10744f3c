import { Type, type Static } from '@sinclair/typebox';

/**
 * The one configuration schema. Every key has a default and a unit. Sources, in order: these defaults,
 * the JSON file named by GRADEFLOW_CONFIG, then environment variables (see load.ts).
 */

const Limits = {
  cpus: Type.Number({ exclusiveMinimum: 0, maximum: 64, default: 1, description: 'CPU cores (fractional allowed)' }),
  memoryMb: Type.Integer({ minimum: 16, maximum: 65536, default: 256, description: 'memory, MiB; swap is not allowed' }),
  pids: Type.Integer({ minimum: 8, maximum: 32768, default: 128, description: 'processes and threads' }),
  timeLimitSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 86400, default: 60, description: 'wall clock, seconds' }),
  outputLimitBytes: Type.Integer({ minimum: 1024, maximum: 1073741824, default: 1048576, description: 'stdout+stderr, bytes (1 MiB)' }),
  tmpfsMb: Type.Integer({ minimum: 1, maximum: 65536, default: 64, description: 'scratch space at /tmp, MiB' }),
};

export const FlavourSchema = Type.Object(
  {
    ...Limits,
    runtime: Type.Optional(Type.String({ minLength: 1, description: 'OCI runtime, e.g. "runsc" for gVisor' })),
    allowRoot: Type.Boolean({ default: false, description: "run as the image's own user, even root (default: nobody)" }),
    switchUser: Type.Boolean({
      default: false,
      description:
        'with allowRoot: the grader may run code as another user (runuser/su, Gradescope\'s `runuser -u student`): adds the capabilities SETUID and SETGID, nothing else',
    }),
    pullPolicy: Type.Union([Type.Literal('if-missing'), Type.Literal('always'), Type.Literal('never')], {
      default: 'if-missing',
      description:
        'when a grading host pulls the grader image from its registry: "if-missing" (the host lacks it), "always" (before every attempt), "never" (it must be on the host)',
    }),
  },
  { additionalProperties: false },
);

const RegistrySchema = Type.Object(
  {
    host: Type.String({
      pattern: '^[A-Za-z0-9.-]+(:[0-9]+)?$',
      description: 'registry as image references name it, e.g. "registry.example.edu:5000" or "127.0.0.1:5000"',
    }),
    username: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String({ minLength: 1, description: 'prefer passwordEnv: the file then holds no password' })),
    passwordEnv: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'environment variable holding the password' })),
    insecure: Type.Optional(
      Type.Boolean({ description: 'plain HTTP for digest resolution (default: only for 127.0.0.1, localhost and ::1)' }),
    ),
  },
  { additionalProperties: false },
);

const PayloadKeySchema = Type.Object(
  {
    id: Type.String({
      pattern: '^[A-Za-z0-9_.-]{1,64}$',
      description: 'key id, written beside each payload it encrypts (metadata encryption-key-id); never give another key the same id',
    }),
    keyEnv: Type.Optional(
      Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'environment variable holding the key: 32 random bytes in base64 (`openssl rand -base64 32`)' }),
    ),
    keyFile: Type.Optional(Type.String({ minLength: 1, description: 'file holding the key (32 bytes in base64), readable by gradeflow only (mode 0600)' })),
    current: Type.Optional(
      Type.Boolean({ description: 'new payloads are encrypted with this key; exactly one key is current (a single key is current by itself)' }),
    ),
  },
  { additionalProperties: false },
);

/** A git server whose push webhooks grade commits (docs/git-hooks.md). */
const GitHookServerSchema = Type.Object(
  {
    secret: Type.String({
      minLength: 16,
      description:
        "the webhook's secret: GitLab's secret token (sent as X-Gitlab-Token) or GitHub's webhook secret (HMAC-SHA256 key of X-Hub-Signature-256); it also tells which platform a hook is for, so no two platforms share one",
    }),
    gitUrl: Type.String({
      pattern: '^https?://[^/@\\s]+(/[^@\\s]*)?$',
      description:
        'base URL of the git server\'s smart HTTP, e.g. "https://gitlab.example.edu": a pushed repository "course/lab1-alice" is fetched from <gitUrl>/course/lab1-alice.git (never from a URL in the hook)',
    }),
    username: Type.Optional(Type.String({ minLength: 1, description: 'git user for fetching (GitLab: a deploy token\'s user; GitHub: "x-access-token")' })),
    password: Type.Optional(Type.String({ minLength: 1, description: 'git password or access token; prefer passwordEnv: the file then holds none' })),
    passwordEnv: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'environment variable holding the git password or token' })),
    allowLoopback: Type.Boolean({ default: false, description: 'allow a git server on 127.0.0.0/8 and ::1 (the callbacks\' SSRF rules otherwise)' }),
    studentId: Type.Union([Type.Literal('pusher'), Type.Literal('namespace')], {
      default: 'pusher',
      description:
        'student_id of a pushed commit: "pusher" (the username of who pushed) or "namespace" (the repository\'s path without its name: "students/alice" for "students/alice/lab1")',
    }),
    fetchTimeoutMs: Type.Integer({ minimum: 500, maximum: 60000, default: 8000, description: 'deadline of fetching one commit, ms (GitLab and GitHub wait 10 s for the answer)' }),
    maxFetchBytes: Type.Integer({ minimum: 1024, default: 52428800, description: 'largest pack fetched for one commit, bytes (50 MiB)' }),
    maxConcurrentFetches: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 4,
      description: 'commits fetched from this git server at once per server process; more hooks wait (within fetchTimeoutMs) for a turn, then are answered 503',
    }),
  },
  { additionalProperties: false },
);

/** Defaults of a platform's optional limits (the schema fills them in; code reading a PlatformConfig built elsewhere falls back to them). */
export const PLATFORM_DEFAULTS = { rateLimit: { max: 1200, windowMs: 60000 }, maxUnfinished: 10000 } as const;

const WEBHOOK_SECRET_PATTERN = '^whsec_[A-Za-z0-9+/]+={0,2}$';

const PlatformSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', description: 'platform id, appears in workflow ids' }),
    apiKeys: Type.Array(Type.String({ minLength: 16 }), {
      minItems: 1,
      description: 'bearer keys; plain, or "sha256:<hex>" of the key so the file holds no usable key',
    }),
    callbackSecret: Type.Optional(
      Type.String({ pattern: WEBHOOK_SECRET_PATTERN, description: 'Standard Webhooks secret (one of callbackSecret, callbackSecrets is required)' }),
    ),
    callbackSecrets: Type.Optional(
      Type.Array(Type.String({ pattern: WEBHOOK_SECRET_PATTERN }), {
        minItems: 1,
        maxItems: 10,
        description:
          'active Standard Webhooks secrets, for rotation: every callback is signed with each (and with callbackSecret, if set), the webhook-signature header carrying one "v1,<signature>" per secret, space-separated',
      }),
    ),
    callbackHttpsOnly: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'refuse callback URLs that are not https (400 naming "callback" at intake; a try to one is not made)',
      }),
    ),
    rateLimit: Type.Optional(
      Type.Object(
        {
          max: Type.Integer({
            minimum: 1,
            maximum: 1000000,
            default: PLATFORM_DEFAULTS.rateLimit.max,
            description: "requests this platform's API keys may make per window",
          }),
          windowMs: Type.Integer({ minimum: 100, maximum: 86400000, default: PLATFORM_DEFAULTS.rateLimit.windowMs, description: 'the window, ms (1 min)' }),
        },
        {
          additionalProperties: false,
          default: {},
          description:
            'request rate limit of this platform (all /v1 routes, counted per platform, per server process): beyond it, 429 with Retry-After',
        },
      ),
    ),
    maxUnfinished: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10000000,
        default: PLATFORM_DEFAULTS.maxUnfinished,
        description:
          "this platform's submissions queued, running or delivering at once: a new submission beyond it is refused (429 too_many_unfinished); a repeat of a stored work_id is answered as always",
      }),
    ),
    allowLoopbackCallbacks: Type.Boolean({ default: false, description: 'allow callbacks to 127.0.0.0/8 and ::1' }),
    images: Type.Array(Type.String({ minLength: 1, maxLength: 300 }), {
      minItems: 1,
      description:
        'grader images this platform may run (required): repository patterns ("gradeflow/example-*", ' +
        '"registry.example.edu:5000/cs101/*"; "*" alone: any repository) and digests ("sha256:<64 hex>")',
    }),
    studentIds: Type.Optional(Type.Union([Type.Literal('hashed'), Type.Literal('plain')], {
      default: 'hashed',
      description:
        'what the GradeflowStudent search attribute holds: "hashed" (a keyed hash of the student id, see privacy.studentHashKeyEnv; `gradeflow student-hash` prints it) or "plain" (the id itself: visible to anyone who can list workflows)',
    })),
    workflowIds: Type.Optional(Type.Union([Type.Literal('work_id'), Type.Literal('gradeflow_id')], {
      default: 'work_id',
      description:
        'what names a submission\'s workflow: "work_id" (submission/<platform>/w/<work_id>, and the GradeflowWorkId search attribute) or "gradeflow_id" (submission/<platform>/id/<gradeflow id>, no GradeflowWorkId): choose it when work_ids may carry personal data',
    })),
    fairnessWeight: Type.Optional(
      Type.Number({
        minimum: 0.001,
        maximum: 1000,
        description:
          "share of each course of this platform in a busy task queue, against other courses' (Temporal fairness weight, default 1; 2: twice as many gradings dispatched as a course of weight 1)",
      }),
    ),
    gitHooks: Type.Optional(
      Type.Object(
        { gitlab: Type.Optional(GitHookServerSchema), github: Type.Optional(GitHookServerSchema) },
        { additionalProperties: false, description: 'push-triggered grading: the git servers whose push webhooks this platform receives (docs/git-hooks.md)' },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    api: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1', description: 'listen address' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
        publicUrl: Type.Optional(
          Type.String({ description: 'URL grading hosts use to fetch submission files; default http://<host>:<port>' }),
        ),
        maxFileBytes: Type.Integer({ minimum: 1, default: 10485760, description: 'largest submission file, bytes (10 MiB)' }),
        eventsPollMs: Type.Integer({
          minimum: 50,
          maximum: 60000,
          default: 1000,
          description: "how often an open GET /v1/submissions/{id}/events stream looks at its submission's status, ms",
        }),
        eventsHeartbeatMs: Type.Integer({
          minimum: 100,
          maximum: 300000,
          default: 15000,
          description: 'how often an events stream sends a comment line while nothing changes (keeps proxies from closing it), ms',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    dataDir: Type.String({ default: './data', description: 'embedded database, Temporal dev server, dockerd logs' }),
    databaseUrl: Type.Optional(Type.String({ description: 'PostgreSQL URL; without it an embedded PGlite in dataDir' })),
    temporal: Type.Object(
      {
        address: Type.Optional(Type.String({ description: 'host:port of a Temporal frontend; without it dev embeds one' })),
        namespace: Type.String({ default: 'default' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 7233, description: 'embedded dev server port' }),
        uiPort: Type.Integer({ minimum: 0, maximum: 65535, default: 8233, description: 'embedded dev server Web UI port' }),
        taskQueuePrefix: Type.String({ pattern: '^[A-Za-z0-9_.-]+$', default: 'gradeflow' }),
        tls: Type.Object(
          {
            enabled: Type.Boolean({
              default: false,
              description: 'connect with TLS; on by itself when any other tls key is set (or an apiKey is)',
            }),
            serverCaFile: Type.Optional(
              Type.String({ minLength: 1, description: "PEM file of the CA that signed the frontend's certificate; default: the system's CAs" }),
            ),
            clientCertFile: Type.Optional(
              Type.String({ minLength: 1, description: 'PEM client certificate (chain) for mutual TLS; needs clientKeyFile' }),
            ),
            clientKeyFile: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key of clientCertFile' })),
            serverName: Type.Optional(
              Type.String({ minLength: 1, description: "name the frontend's certificate is checked against (and SNI); default: the address host" }),
            ),
          },
          { additionalProperties: false, default: {} },
        ),
        apiKey: Type.Optional(
          Type.String({ minLength: 1, description: 'sent as "Authorization: Bearer <key>" on every call (Temporal Cloud API keys); implies TLS' }),
        ),
        payloadKeys: Type.Optional(
          Type.Array(PayloadKeySchema, {
            default: [],
            description:
              'AES-256-GCM keys of the payload codec (every client and worker): with any, workflow inputs, results, signals, queries and summaries are stored encrypted in Temporal; the other keys still decrypt what they encrypted (rotation). GRADEFLOW_PAYLOAD_KEY or GRADEFLOW_PAYLOAD_KEY_FILE (+ GRADEFLOW_PAYLOAD_KEY_ID) adds one when the list is empty',
          }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    server: Type.Object(
      {
        databasePoolSize: Type.Integer({
          minimum: 1,
          maximum: 1000,
          default: 10,
          description: 'connections to the PostgreSQL server (databaseUrl) each server process opens at start and keeps',
        }),
        reconcileIntervalMs: Type.Integer({
          minimum: 100,
          default: 30000,
          description: 'how often submissions stored but never started (a failed start, a stop before it) are started again, ms',
        }),
        reconcileBatch: Type.Integer({ minimum: 1, maximum: 100000, default: 5000, description: 'at most this many of them per pass' }),
        starterConcurrency: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'workflow starts in flight at once' }),
        starterQuietMs: Type.Integer({
          minimum: 0,
          maximum: 10000,
          default: 50,
          description: 'starts wait while submissions arrive closer together than this, ms (intake keeps the CPU)',
        }),
        starterMaxDeferMs: Type.Integer({
          minimum: 0,
          maximum: 600000,
          default: 5000,
          description: 'the longest the oldest waiting start is held back that way, ms',
        }),
        inlineFileBytes: Type.Integer({
          minimum: 0,
          maximum: 262144,
          default: 4096,
          description:
            'files up to this size travel in the workflow input (in Temporal history) on the first start, bytes; larger ones are fetched by the grading host',
        }),
        progressQueryTimeoutMs: Type.Integer({
          minimum: 10,
          maximum: 60000,
          default: 1000,
          description: "how long GET waits for a running workflow's status query before the database answers alone, ms",
        }),
        healthCheckTimeoutMs: Type.Integer({
          minimum: 10,
          maximum: 60000,
          default: 3000,
          description: 'how long /healthz waits for each dependency before reporting it down, ms',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    heartbeatTimeouts: Type.Object(
      {
        runContainerSeconds: Type.Number({
          minimum: 2,
          maximum: 3600,
          default: 20,
          description:
            'a grading (runContainer) without a heartbeat this long counts its host as lost and is retried, seconds (hosts beat every second); set on a workflow when it starts',
        }),
        awaitContainerSeconds: Type.Number({
          minimum: 2,
          maximum: 3600,
          default: 15,
          description: 'the same for a handed-over container (awaitContainer), seconds',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    workerToken: Type.Optional(
      Type.String({ minLength: 16, description: 'shared by server and grading hosts to fetch submission files' }),
    ),
    worker: Type.Object(
      {
        hostId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,100}$', description: 'default: the machine hostname' })),
        slots: Type.Integer({ minimum: 1, maximum: 256, default: 2, description: 'grading containers alive at once' }),
        flavours: Type.Optional(Type.Array(Type.String(), { description: 'flavours this host serves; default all' })),
        shutdownGraceSeconds: Type.Number({ minimum: 0, default: 30, description: 'seconds running gradings get on SIGTERM' }),
        reapIntervalSeconds: Type.Number({ minimum: 1, default: 60, description: 'how often leftover containers are looked for' }),
        reapOverdueSeconds: Type.Number({
          minimum: 0,
          default: 120,
          description: 'seconds a container may keep running past its time limit before the reaper kills it (nobody is left to)',
        }),
        healthPort: Type.Integer({
          minimum: 0,
          maximum: 65535,
          default: 0,
          description: 'port of the grading host\'s GET /healthz (Docker, polling, slots); 0: no health endpoint',
        }),
        healthHost: Type.String({ default: '127.0.0.1', description: 'listen address of the health endpoint' }),
        pullRetrySeconds: Type.Integer({
          minimum: 0,
          maximum: 300,
          default: 120,
          description:
            'how long a pull that failed for a transient reason (registry unreachable, 5xx, timeout) is tried again, with backoff, before the attempt ends as infrastructure_error, seconds; at most 300 (the grading activity\'s spare 600 s)',
        }),
        announceContainerStart: Type.Optional(Type.Boolean({
          default: true,
          description:
            'signal the workflow (`containerStarted`) when a grading\'s container starts, so that its phase, host and start time are known while it runs (the Temporal UI, the status query, a cancel\'s record); costs one workflow task per grading (docs/performance.md); false: the workflow learns them with the result',
        })),
      },
      { additionalProperties: false, default: {} },
    ),
    flavours: Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,40}$' }), FlavourSchema, {
      default: { default: {} },
    }),
    platforms: Type.Array(PlatformSchema, { default: [] }),
    callbacks: Type.Object(
      {
        initialIntervalMs: Type.Integer({ minimum: 10, default: 1000, description: 'first retry after, ms' }),
        maximumIntervalMs: Type.Integer({ minimum: 10, default: 600000, description: 'longest wait between retries, ms (10 min)' }),
        backoffCoefficient: Type.Number({ minimum: 1, default: 2 }),
        giveUpAfterMs: Type.Integer({
          minimum: 1000,
          default: 345600000,
          description: 'stop retrying after, ms, whatever the schedule (4 days: past the default schedule\'s 2.8 days and its jitter)',
        }),
        timeoutMs: Type.Integer({
          minimum: 100,
          maximum: 50000,
          default: 15000,
          description:
            'hard deadline of one try, ms, from its start to the status line (connect, request, headers; the body is never read); at most 50 s: a try must end within its activity\'s minute',
        }),
        firstTryTimeoutMs: Type.Integer({
          minimum: 100,
          maximum: 50000,
          default: 2000,
          description:
            'hard deadline of the first try, ms, made right after the result is recorded while the workflow task waits (capped at timeoutMs)',
        }),
        firstTryConcurrency: Type.Integer({
          minimum: 0,
          maximum: 1000,
          default: 8,
          description:
            'first tries in flight at once per server process (each holds one of the control worker\'s 40 workflow-task slots); beyond it the first try is skipped and the retries deliver at once; 0: never',
        }),
        retrySchedule: Type.Array(Type.Number({ minimum: 0, maximum: 172800 }), {
          minItems: 0,
          maxItems: 1000,
          default: [5, 300, 1800, 7200, 18000, 36000, 36000, 36000, 36000, 36000, 36000],
          description:
            'seconds to wait after each failed try before the next (Standard Webhooks / Svix: 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h: 12 tries over about 2.8 days); when it runs out the delivery is given up',
        }),
        retryJitter: Type.Number({
          minimum: 0,
          maximum: 1,
          default: 0.2,
          description: 'each wait of retrySchedule is drawn uniformly within ± this fraction of it (0.2: 5 min becomes 4–6 min)',
        }),
        maxRetryAfterMs: Type.Integer({
          minimum: 0,
          maximum: 86400000,
          default: 3600000,
          description:
            "a receiver's Retry-After (on 429, 502, 503, 504; seconds or an HTTP date) is honoured up to this, ms (1 h): the next try waits the longer of it and the schedule's step",
        }),
        clientErrorTries: Type.Integer({
          minimum: 1,
          maximum: 100,
          default: 3,
          description:
            'a 3xx (redirects are not followed) or 4xx answer other than 410 and 429 on this try or later gives the delivery up: such a receiver is retried this many tries in all',
        }),
        maxConcurrentDeliveries: Type.Integer({
          minimum: 1,
          maximum: 10000,
          default: 200,
          description: 'callback retries in flight at once per server process (the delivery worker\'s activity slots)',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    archives: Type.Object(
      {
        maxEntries: Type.Integer({ minimum: 1, default: 10000, description: 'files, directories and links in one uploaded archive' }),
        maxExpandedBytes: Type.Integer({ minimum: 1, default: 104857600, description: 'expanded size of one uploaded archive, bytes (100 MiB)' }),
      },
      { additionalProperties: false, default: {} },
    ),
    stallWatch: Type.Object(
      {
        intervalSeconds: Type.Number({ minimum: 1, default: 60, description: 'how often unfinished submissions are checked' }),
        minAgeSeconds: Type.Number({ minimum: 0, default: 300, description: 'only submissions unchanged this long' }),
        batch: Type.Integer({ minimum: 1, maximum: 1000, default: 20, description: 'the oldest this many per check' }),
        taskAttempts: Type.Integer({
          minimum: 2,
          default: 3,
          description: 'a workflow task tried this often in a row (failed or timed out) counts as stalled',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    regrades: Type.Object(
      {
        concurrency: Type.Integer({
          minimum: 1,
          maximum: 1000,
          default: 16,
          description: "an assignment regrade's window: submissions regraded at once (the next starts as one's result is recorded)",
        }),
        pageSize: Type.Integer({ minimum: 1, maximum: 10000, default: 500, description: 'submission ids an assignment regrade reads from the database at a time' }),
        pollIntervalMs: Type.Integer({
          minimum: 100,
          maximum: 600000,
          default: 2000,
          description: 'how often an assignment regrade reads the outcomes of the regrades in flight, ms',
        }),
        continueAsNewAfter: Type.Integer({
          minimum: 1,
          maximum: 100000,
          default: 500,
          description: "an assignment regrade's run continues as new after this many outcomes (keeps its history small)",
        }),
        maxStudentIds: Type.Integer({ minimum: 1, maximum: 100000, default: 10000, description: 'student_ids one assignment regrade may list' }),
      },
      { additionalProperties: false, default: {} },
    ),
    registries: Type.Array(RegistrySchema, {
      default: [],
      description:
        'registries grader images come from, with their credentials (optional): only images on these are resolved to a digest at intake (API) and pulled (grading hosts); credentials are never sent to a platform or a container',
    }),
    registryTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 60000,
      default: 5000,
      description: 'how long the API waits for a registry to resolve a tag to its digest at intake, ms',
    }),
    priorities: Type.Object(
      {
        default: Type.Integer({ minimum: 1, maximum: 5, default: 3, description: 'priority of a submission that names none (1 urgent … 5)' }),
        regrade: Type.Integer({
          minimum: 1,
          maximum: 5,
          default: 4,
          description: 'priority of a regrade that names none: below live work, so a bulk regrade waits for new submissions',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    codecServer: Type.Object(
      {
        tokens: Type.Array(Type.String({ minLength: 16 }), {
          default: [],
          description:
            'operator tokens the codec endpoint (POST /codec/encode, /codec/decode) accepts as "Authorization: Bearer <token>"; plain or "sha256:<hex>"; none: the endpoint is off. GRADEFLOW_CODEC_TOKEN adds one',
        }),
        corsOrigins: Type.Array(Type.String({ pattern: '^https?://[^/\\s]+$' }), {
          default: [],
          description: 'Temporal UI origins allowed to call the codec endpoint from a browser, with credentials, e.g. "http://localhost:8233"',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    privacy: Type.Object(
      {
        studentHashKeyEnv: Type.String({
          pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
          default: 'GRADEFLOW_STUDENT_HASH_KEY',
          description:
            'environment variable holding the key of the student-id hash (HMAC-SHA256), any text of 16 or more characters; unset: a key derived from workerToken',
        }),
        studentHashKeyFile: Type.Optional(Type.String({ minLength: 1, description: 'file holding the student-id hash key instead (mode 0600)' })),
      },
      { additionalProperties: false, default: {} },
    ),
    infrastructureRetries: Type.Integer({
      minimum: 0,
      maximum: 20,
      default: 3,
      description: 'attempts lost to Docker or host faults that are tried again before being reported',
    }),
    metrics: Type.Object(
      {
        port: Type.Integer({
          minimum: 0,
          maximum: 65535,
          default: 0,
          description:
            "port of the server's own GET /metrics listener (Prometheus text, no key); 0: /metrics is served on the API port instead. A grading host serves it on worker.healthPort",
        }),
        host: Type.String({ default: '127.0.0.1', description: 'listen address of the server\'s own /metrics listener (with metrics.port)' }),
        temporalPort: Type.Integer({
          minimum: 0,
          maximum: 65535,
          default: 0,
          description:
            "port of the Temporal SDK's Prometheus exporter, bound to 127.0.0.1 only; /metrics appends what it serves (0: a free port picked at start)",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    retention: Type.Object(
      {
        filesDays: Type.Number({
          exclusiveMinimum: 0,
          maximum: 36500,
          default: 365,
          description:
            'days after a submission finished that `gradeflow prune` (without --older-than) removes its stored file and output excerpts; results and grades are kept',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    logLevel: Type.Union(
      [Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('silent')],
      { default: 'info' },
    ),
  },
  { additionalProperties: false },
);

export type GradeflowConfig = Static<typeof ConfigSchema>;
export type FlavourConfig = Static<typeof FlavourSchema>;
export type PlatformConfig = Static<typeof PlatformSchema>;
export type RegistryConfig = Static<typeof RegistrySchema>;
export type GitHookServerConfig = Static<typeof GitHookServerSchema>;
export type PullPolicy = FlavourConfig['pullPolicy'];
