import { describe, expect, it } from 'vitest';
import { isTransientPullFailure } from '../../src/activities/docker/pull-image';

/** Which answers of a registry (as the Docker daemon passes them on) a grading host waits out. */

const IMAGE = '127.0.0.1:5000/gradeflow/example-sum@sha256:0b4c1e5f2f8c3b7f0e5d8f8a9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b';

describe('isTransientPullFailure', () => {
  it.each([
    'Get "http://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused',
    'Get "http://127.0.0.1:5000/v2/": read tcp 127.0.0.1:41234->127.0.0.1:5000: read: connection reset by peer',
    'Get "https://registry.example.edu/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)',
    'Get "https://registry.example.edu/v2/": dial tcp 10.0.0.5:443: i/o timeout',
    'received unexpected HTTP status: 503 Service Unavailable',
    'received unexpected HTTP status: 502 Bad Gateway',
    'toomanyrequests: You have reached your pull rate limit',
  ])('waits out: %s', (answer) => {
    expect(isTransientPullFailure(answer)).toBe(true);
  });

  it.each([
    'Head "http://127.0.0.1:5000/v2/gradeflow/example-sum/manifests/sha256:0b4c": no basic auth credentials',
    'unauthorized: authentication required',
    `pull access denied for ${IMAGE}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`,
    `manifest for ${IMAGE} not found: manifest unknown: manifest unknown`,
    'name unknown: repository name not known to registry',
    'a registry answer nobody has seen before',
  ])('does not wait out: %s', (answer) => {
    expect(isTransientPullFailure(answer)).toBe(false);
  });
});
