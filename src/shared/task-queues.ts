/** Task queue names. One control queue, one delivery queue, one per flavour, one per grading host; all under a prefix. */

export function controlQueue(prefix: string): string {
  return `${prefix}-control`;
}

/** The callback retries: served by a worker of their own in the server, so a slow receiver holds none of the control queue's slots. */
export function deliveryQueue(prefix: string): string {
  return `${prefix}-deliveries`;
}

export function flavourQueue(prefix: string, flavour: string): string {
  return `${prefix}-flavour-${flavour}`;
}

export function hostQueue(prefix: string, hostId: string): string {
  return `${prefix}-host-${hostId}`;
}
