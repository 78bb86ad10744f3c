/**
 * Readable workflow ids. The Temporal UI lists `submission/<platform>/w/<work_id>` for a submission the
 * platform named, `submission/<platform>/id/<id>` for one it did not. The two namespaces cannot collide:
 * a work_id and a gradeflow id (a UUID) that are equal still map to different workflows. Platform ids
 * contain no `/`, so two platforms never share one either.
 *
 * Rows stored before this scheme keep the id they were stored with (`submission/<platform>/<work_id or id>`):
 * the stored `workflowId` is what every caller uses, never a recomputed one.
 */
export function submissionWorkflowId(platformId: string, sub: { id: string; workId?: string | null | undefined }): string {
  return sub.workId ? `submission/${platformId}/w/${sub.workId}` : ownWorkflowId(platformId, sub.id);
}

/**
 * The id only this submission can have: named by gradeflow's own id. A submission whose workflow id turns
 * out to be another submission's (a row stored under the old scheme) is moved here.
 */
export function ownWorkflowId(platformId: string, submissionId: string): string {
  return `submission/${platformId}/id/${submissionId}`;
}
