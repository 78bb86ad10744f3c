import { Type } from '@sinclair/typebox';
import { Nullable } from './common';

export const FlavourSchema = Type.Object(
  {
    name: Type.String({ description: 'what a submission names in `flavour`' }),
    limits: Type.Object(
      {
        cpus: Type.Number({ description: 'CPU cores' }),
        memory_mb: Type.Integer({ description: 'memory, MiB (no swap)' }),
        pids: Type.Integer({ description: 'processes and threads' }),
        time_limit_seconds: Type.Number({ description: 'wall clock' }),
        output_limit_bytes: Type.Integer({ description: 'stdout + stderr' }),
        tmpfs_mb: Type.Integer({ description: 'scratch space at /tmp, MiB' }),
      },
      { description: "the most a grading may use; a submission's `limits` may only tighten them" },
    ),
    runtime: Nullable(Type.String({ description: 'the OCI runtime, e.g. `runsc` (gVisor); null: the engine\'s default' })),
    runtime_sandboxed: Type.Boolean({ description: 'true when graders run under a sandboxing runtime (gVisor) rather than plain runc' }),
    allow_root: Type.Boolean({ description: "graders run as the image's own user (else as nobody)" }),
    switch_user: Type.Boolean({ description: 'graders may switch users (runuser), with allow_root' }),
    pull_policy: Type.String({ description: 'when hosts pull grader images: `if-missing`, `always`, `never`' }),
    task_queue: Type.String({ description: 'the Temporal task queue its gradings wait on' }),
  },
  { $id: 'Flavour', description: 'a class of grading host: its limits and sandbox' },
);

export const FlavourListSchema = Type.Object({ flavours: Type.Array(Type.Ref(FlavourSchema)) }, { description: 'every configured flavour' });

export const VersionSchema = Type.Object({
  gradeflow: Type.String({ description: "gradeflow's version (package.json)" }),
  api: Type.String({ description: 'the API version: the path prefix routes start with' }),
  temporal_sdk: Type.String({ description: 'the Temporal TypeScript SDK version the server runs' }),
  openapi: Type.String({ description: 'where the OpenAPI document is' }),
}, { description: 'the versions this server runs' });
