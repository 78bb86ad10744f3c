import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failureKind, nextStep, parseRetryAfter, scheduledWaitMs, type WebhookRules } from '../../src/activities/callback/retry-rules';
import { loadConfig } from '../../src/config/load';

const DEFAULTS = loadConfig({}, {}).callbacks;

describe('the default webhook policy', () => {
  it('has a 15 s request timeout and a schedule of 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h, spanning about three days', () => {
    expect(DEFAULTS.timeoutMs).toBe(15_000);
    expect(DEFAULTS.retrySchedule.slice(0, 6)).toEqual([5, 300, 1800, 7200, 18000, 36000]);
    const spanH = DEFAULTS.retrySchedule.reduce((a, b) => a + b, 0) / 3600;
    expect(spanH).toBeGreaterThan(60);
    expect(spanH).toBeLessThan(80);
    // The hard stop lies past the schedule even with every step at its longest jitter.
    expect(DEFAULTS.giveUpAfterMs).toBeGreaterThan(spanH * 3600_000 * (1 + DEFAULTS.retryJitter));
  });
});

describe('scheduledWaitMs', () => {
  it('is each step within ± the jitter, and undefined past the schedule', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 100_000, noNaN: true }), { minLength: 1, maxLength: 20 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (schedule, jitter, r) => {
          const rules = { retrySchedule: schedule, retryJitter: jitter };
          schedule.forEach((step, i) => {
            const w = scheduledWaitMs(rules, i + 1, () => r)!;
            expect(w).toBeGreaterThanOrEqual(Math.floor(step * 1000 * (1 - jitter)));
            expect(w).toBeLessThanOrEqual(Math.ceil(step * 1000 * (1 + jitter)));
          });
          expect(scheduledWaitMs(rules, schedule.length + 1, () => r)).toBeUndefined();
        },
      ),
    );
  });

  it('spreads: the extremes of the random draw reach both ends', () => {
    const rules = { retrySchedule: [10], retryJitter: 0.2 };
    expect(scheduledWaitMs(rules, 1, () => 0)).toBe(8000);
    expect(scheduledWaitMs(rules, 1, () => 0.5)).toBe(10_000);
    expect(scheduledWaitMs(rules, 1, () => 0.999999)).toBe(12_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads seconds and HTTP dates; ignores garbage', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('nextStep', () => {
  const rules: WebhookRules = { retrySchedule: [1, 1, 1, 1], retryJitter: 0, maxRetryAfterMs: 60_000, clientErrorTries: 3 };
  it('honours Retry-After only on 429/502/503/504, as a floor, capped', () => {
    for (const s of [429, 502, 503, 504]) expect(nextStep(rules, 1, s, '30')).toEqual({ waitMs: 30_000 });
    expect(nextStep(rules, 1, 500, '30')).toEqual({ waitMs: 1000 });
    expect(nextStep(rules, 1, 503, '0')).toEqual({ waitMs: 1000 });
    expect(nextStep(rules, 1, 503, '86400')).toEqual({ waitMs: 60_000 });
  });
  it('gives a 3xx or 4xx (not 410, 429) up on try clientErrorTries; other failures at the end of the schedule', () => {
    expect(failureKind(301)).toBe('client');
    expect(failureKind(404)).toBe('client');
    expect(failureKind(429)).toBe('retry');
    expect(failureKind(500)).toBe('retry');
    expect(failureKind(undefined)).toBe('retry');
    expect(nextStep(rules, 2, 404, undefined)).toEqual({ waitMs: 1000 });
    expect(nextStep(rules, 3, 404, undefined)).toHaveProperty('giveUp');
    expect(nextStep(rules, 3, 302, undefined)).toHaveProperty('giveUp');
    expect(nextStep(rules, 4, 503, undefined)).toEqual({ waitMs: 1000 });
    expect(nextStep(rules, 5, 503, undefined)).toHaveProperty('giveUp');
    expect(nextStep(rules, 5, undefined, undefined)).toHaveProperty('giveUp');
  });
});
