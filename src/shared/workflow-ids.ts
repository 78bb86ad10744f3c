/** Readable workflow ids: the Temporal UI lists `submission/<platform>/<work_id or id>`. */
export function submissionWorkflowId(platformId: string, workIdOrSubmissionId: string): string {
  return `submission/${platformId}/${workIdOrSubmissionId}`;
}
