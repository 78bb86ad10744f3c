import { Type } from '@sinclair/typebox';
import { Nullable, StringEnum } from './common';

const Priority = Type.Integer({ minimum: 1, maximum: 5, description: '1 (urgent) … 5; default `priorities.regrade`' });

/** POST /v1/assignments/{id}/regrade; every field optional (null: not given). `maxStudentIds` from the config. */
export function assignmentRegradeBody(maxStudentIds: number) {
  return Type.Object(
    {
      image: Type.Optional(Nullable(Type.String({ description: 'regrade with this image (allowed and pinned as at intake)' }))),
      scope: Type.Optional(Nullable(StringEnum(['latest', 'all'], { description: "each student's latest submission (default), or all" }))),
      student_ids: Type.Optional(
        Nullable(Type.Array(Type.String(), { minItems: 1, maxItems: maxStudentIds, description: `only these students (at most ${maxStudentIds})` })),
      ),
      reason: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
      priority: Type.Optional(Nullable(Priority)),
      update_assignment: Type.Optional(Nullable(Type.Boolean({ description: 'also make `image` the assignment\'s image for new submissions' }))),
    },
    { additionalProperties: false },
  );
}

export const RegradeStartedSchema = Type.Object({
  regrade_id: Type.String(),
  assignment_id: Type.String(),
  n: Type.Integer({ minimum: 1, description: "the regrade's number within its assignment" }),
  workflow_id: Type.String(),
  scope: Type.String(),
  image: Nullable(Type.String()),
  assignment_updated: Type.Boolean(),
}, { description: 'started: follow it at GET /v1/regrades/{regrade_id}' });

export const RegradeProgressSchema = Type.Object(
  {
    regrade_id: Type.String(),
    assignment_id: Type.String(),
    n: Type.Integer(),
    status: Type.String({ description: '`running`, `completed`, `cancelled`, or how the workflow ended' }),
    total: Nullable(Type.Integer({ description: 'submissions to regrade, once counted' })),
    done: Type.Integer(),
    failed: Type.Integer(),
    running: Type.Integer(),
    changed: Type.Integer({ description: 'regraded with a different grade' }),
    paused: Type.Boolean(),
    cancelled: Type.Boolean(),
    finished: Type.Boolean(),
  },
  { $id: 'RegradeProgress', description: "an assignment regrade's progress" },
);

export const RegradeSignalledSchema = Type.Object({ regrade_id: Type.String(), signal: Type.String() }, { description: 'signalled; the regrade acts on it shortly' });
