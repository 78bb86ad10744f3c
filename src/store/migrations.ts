import type { Db } from './db';

/**
 * Schema changes, applied in order, each once. Append only: never edit one that has shipped.
 */
export const MIGRATIONS: ReadonlyArray<{ id: number; name: string; sql: string }> = [
  {
    id: 1,
    name: 'submissions, files, attempts, deliveries',
    sql: `
      CREATE TABLE files (
        sha256      text PRIMARY KEY,
        content     bytea NOT NULL,
        size        integer NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE submissions (
        id            uuid PRIMARY KEY,
        platform_id   text NOT NULL,
        work_id       text,
        workflow_id   text NOT NULL,
        image         text NOT NULL,
        flavour       text NOT NULL,
        callback_url  text,
        params        jsonb NOT NULL DEFAULT '{}'::jsonb,
        assignment_id text,
        student_id    text,
        course_id     text,
        file_name     text NOT NULL,
        file_sha256   text NOT NULL REFERENCES files (sha256),
        file_size     integer NOT NULL,
        status        text NOT NULL,
        attempts      integer NOT NULL DEFAULT 0,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        UNIQUE (platform_id, work_id)
      );
      CREATE INDEX submissions_status ON submissions (status) WHERE status = 'received';
      CREATE INDEX submissions_assignment ON submissions (platform_id, assignment_id);
      CREATE TABLE attempts (
        submission_id uuid NOT NULL REFERENCES submissions (id),
        attempt       integer NOT NULL,
        host          text,
        queued_at     timestamptz,
        started_at    timestamptz,
        graded_at     timestamptz,
        result        jsonb NOT NULL,
        PRIMARY KEY (submission_id, attempt)
      );
      CREATE TABLE deliveries (
        submission_id uuid NOT NULL REFERENCES submissions (id),
        attempt       integer NOT NULL,
        webhook_id    text NOT NULL,
        status        text NOT NULL,
        tries         integer NOT NULL DEFAULT 0,
        last_status   integer,
        last_error    text,
        delivered_at  timestamptz,
        updated_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (submission_id, attempt)
      );
    `,
  },
  {
    id: 2,
    name: 'per-submission limits',
    sql: `ALTER TABLE submissions ADD COLUMN limits jsonb NOT NULL DEFAULT '{}'::jsonb;`,
  },
  {
    id: 3,
    name: 'result formats: grading settings per submission, defaults per assignment',
    sql: `
      ALTER TABLE submissions ADD COLUMN grading jsonb NOT NULL DEFAULT '{"format": "auto"}'::jsonb;
      CREATE TABLE assignments (
        platform_id   text NOT NULL,
        assignment_id text NOT NULL,
        settings      jsonb NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (platform_id, assignment_id)
      );
    `,
  },
  {
    id: 4,
    name: 'stall watch: unfinished submissions by age',
    sql: `CREATE INDEX submissions_unfinished ON submissions (updated_at) WHERE status IN ('queued', 'running', 'delivering');`,
  },
  {
    id: 5,
    name: 'why an unfinished submission is not progressing (stall watch, workflow id taken by another submission)',
    sql: `ALTER TABLE submissions ADD COLUMN problem text;`,
  },
  {
    id: 6,
    name: 'assignment regrades; the image that graded each attempt; indexes for finding submissions',
    sql: `
      CREATE TABLE regrades (
        platform_id   text NOT NULL,
        assignment_id text NOT NULL,
        seq           integer NOT NULL,
        scope         text NOT NULL,
        student_ids   jsonb,
        image         text,
        reason        text,
        created_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (platform_id, assignment_id, seq)
      );
      ALTER TABLE attempts ADD COLUMN image text;
      CREATE INDEX submissions_platform_created ON submissions (platform_id, created_at DESC, id DESC);
      CREATE INDEX submissions_assignment_created ON submissions (platform_id, assignment_id, created_at DESC, id DESC);
      CREATE INDEX submissions_student_created ON submissions (platform_id, student_id, created_at DESC, id DESC);
      CREATE INDEX submissions_course_created ON submissions (platform_id, course_id, created_at DESC, id DESC);
    `,
  },
  {
    id: 7,
    name: 'submission priority; attempt numbers allocated per run and slot; which run recorded an attempt',
    sql: `
      ALTER TABLE submissions ADD COLUMN priority smallint NOT NULL DEFAULT 3;
      CREATE TABLE attempt_allocations (
        workflow_id   text NOT NULL,
        run_id        text NOT NULL,
        slot          text NOT NULL,
        submission_id uuid NOT NULL REFERENCES submissions (id),
        attempt       integer NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workflow_id, run_id, slot),
        UNIQUE (submission_id, attempt)
      );
      ALTER TABLE attempts ADD COLUMN run_id text;
    `,
  },
  {
    id: 8,
    name: 'results feed (results in the order they became final, per platform); redeliveries of a result',
    sql: `
      CREATE TABLE result_feed (
        seq           bigserial PRIMARY KEY,
        platform_id   text NOT NULL,
        submission_id uuid NOT NULL REFERENCES submissions (id),
        attempt       integer NOT NULL,
        recorded_at   timestamptz NOT NULL DEFAULT now(),
        UNIQUE (submission_id, attempt)
      );
      CREATE INDEX result_feed_platform ON result_feed (platform_id, seq);
      INSERT INTO result_feed (platform_id, submission_id, attempt, recorded_at)
        SELECT s.platform_id, a.submission_id, a.attempt, a.graded_at
        FROM attempts a JOIN submissions s ON s.id = a.submission_id
        WHERE a.graded_at IS NOT NULL
        ORDER BY a.graded_at, a.submission_id, a.attempt;
      CREATE TABLE redeliveries (
        submission_id uuid NOT NULL REFERENCES submissions (id),
        n             integer NOT NULL,
        attempt       integer NOT NULL,
        webhook_id    text NOT NULL,
        status        text NOT NULL,
        tries         integer NOT NULL DEFAULT 0,
        last_status   integer,
        last_error    text,
        delivered_at  timestamptz,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (submission_id, n)
      );
    `,
  },
  {
    id: 9,
    name: 'push-triggered grading: received git hooks; assignments mapped to repositories',
    sql: `
      CREATE TABLE git_hooks (
        id             bigserial PRIMARY KEY,
        platform_id    text NOT NULL,
        kind           text NOT NULL,
        delivery_id    text,
        repository_sha256 text,
        ref            text,
        commit_sha     text,
        assignment_id  text,
        submission_id  uuid,
        outcome        text NOT NULL,
        received_at    timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX git_hooks_platform_received ON git_hooks (platform_id, received_at DESC);
      CREATE INDEX assignments_with_repositories ON assignments (platform_id) WHERE settings ? 'repositories';
    `,
  },
  {
    id: 10,
    name: 'retention: a pruned submission (file and output excerpts removed, results kept); a file without its bytes',
    sql: `
      ALTER TABLE submissions ADD COLUMN pruned_at timestamptz;
      ALTER TABLE files ALTER COLUMN content DROP NOT NULL;
      CREATE INDEX submissions_prunable ON submissions (updated_at)
        WHERE pruned_at IS NULL AND status IN ('completed', 'failed', 'cancelled');
    `,
  },
  {
    id: 11,
    name: 'webhooks: when a delivery may be tried next; callback URLs gone (410); unfinished submissions per platform',
    sql: `
      ALTER TABLE deliveries ADD COLUMN next_try_at timestamptz;
      CREATE TABLE callback_gone (
        platform_id   text NOT NULL,
        url           text NOT NULL,
        submission_id uuid,
        gone_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (platform_id, url)
      );
      CREATE INDEX submissions_unfinished_platform ON submissions (platform_id)
        WHERE status IN ('received', 'queued', 'running', 'delivering');
    `,
  },
];

/** Bring the schema up to date. Serialized by an advisory lock so that several servers can start at once. */
export async function migrate(db: Db): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(7152026)');
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await tx.query<{ id: number }>('SELECT id FROM schema_migrations')).map((r) => r.id));
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.id)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
      applied.push(m.id);
    }
    return applied;
  });
}
