/** Task queue names. One control queue, one per flavour, one per grading host; all under a prefix. */

export function controlQueue(prefix: string): string {
  return `${prefix}-control`;
}

export function flavourQueue(prefix: string, flavour: string): string {
  return `${prefix}-flavour-${flavour}`;
}

export function hostQueue(prefix: string, hostId: string): string {
  return `${prefix}-host-${hostId}`;
}
