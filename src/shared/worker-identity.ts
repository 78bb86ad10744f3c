/**
 * A grading host's worker identity, as Temporal shows it (UI, describe): the host id first, so that the
 * API and the reaper can tell which host runs an activity. Host ids cannot contain "/".
 */
export function workerIdentity(hostId: string, pid: number): string {
  return `${hostId}/${pid}`;
}

export function hostOfIdentity(identity: string | null | undefined): string | undefined {
  return identity ? identity.split('/')[0] : undefined;
}
