import { describe, expect, it } from 'vitest';
import { closingPhase, finishedStatus, publicStatus, statusOnDelivered, statusOnResult } from '../../src/shared/status';

describe('submission status rules', () => {
  it('a result with nothing to follow is final: failed only for infrastructure faults', () => {
    expect(statusOnResult(undefined, { callback: false, regradePending: false })).toBe('completed');
    expect(statusOnResult('invalid_submission', { callback: false, regradePending: false })).toBe('completed');
    expect(statusOnResult('infrastructure_error', { callback: false, regradePending: false })).toBe('failed');
  });

  it('a result with a callback or a pending regrade to follow is delivering', () => {
    expect(statusOnResult('infrastructure_error', { callback: true, regradePending: false })).toBe('delivering');
    expect(statusOnResult(undefined, { callback: false, regradePending: true })).toBe('delivering');
  });

  it('delivered: the grading is over, an infrastructure fault stays failed', () => {
    expect(statusOnDelivered(undefined)).toBe('completed');
    expect(statusOnDelivered('infrastructure_error')).toBe('failed');
    expect(finishedStatus('time_limit_exceeded')).toBe('completed');
  });

  it('the workflow closes failed for an infrastructure fault or an undelivered callback', () => {
    expect(closingPhase(undefined, 'none')).toBe('completed');
    expect(closingPhase(undefined, 'delivered')).toBe('completed');
    expect(closingPhase(undefined, 'undelivered')).toBe('failed');
    expect(closingPhase('infrastructure_error', 'delivered')).toBe('failed');
  });

  it('received is shown as queued; every other status as it is', () => {
    expect(publicStatus('received')).toBe('queued');
    expect(publicStatus('cancelled')).toBe('cancelled');
  });
});
