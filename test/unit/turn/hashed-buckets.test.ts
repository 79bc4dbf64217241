// The keyed hash behind the reply budget's and the advance ledger's tables.
import { describe, expect, it } from 'vitest';
import { keyedHash } from '../../../src/turn/hashed-buckets.js';

describe('keyedHash', () => {
  it('gives tags that are never 0 and fit in 30 bits, small integers to V8 (a heap number threw the warm-up\'s optimised code away)', () => {
    const hash = keyedHash(0x9e3779b9);
    const tags = Array.from({ length: 10_000 }, (_, i) => hash(`10.${i >> 8}.${i & 255}.1`));
    expect(tags.every((tag) => Number.isInteger(tag) && tag > 0 && tag < 2 ** 30)).toBe(true);
  });

  it('still spreads sources over the low bits the buckets use', () => {
    const hash = keyedHash(12345);
    const buckets = new Set(Array.from({ length: 4096 }, (_, i) => hash(`192.0.2.${i & 255}:${i}`) & 1023));
    expect(buckets.size).toBeGreaterThan(900);
  });
});
