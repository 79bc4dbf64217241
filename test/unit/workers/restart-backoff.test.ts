import { describe, expect, it } from 'vitest';
import { FIRST_RESTART_MS, MAX_RESTART_MS, RestartBackoff, STABLE_RUN_MS } from '../../../src/workers/restart-backoff.js';

describe('RestartBackoff', () => {
  it('doubles the wait while replacements die soon after start, up to the cap', () => {
    const backoff = new RestartBackoff();
    const delays = Array.from({ length: 9 }, () => backoff.delayAfter(10));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, MAX_RESTART_MS, MAX_RESTART_MS, MAX_RESTART_MS]);
  });

  it('starts again from the first wait after a worker that ran a while', () => {
    const backoff = new RestartBackoff();
    for (let i = 0; i < 4; i++) backoff.delayAfter(10);
    expect(backoff.delayAfter(STABLE_RUN_MS)).toBe(FIRST_RESTART_MS);
    expect(backoff.delayAfter(10)).toBe(2 * FIRST_RESTART_MS);
  });
});
