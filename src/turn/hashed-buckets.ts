/**
 * Fixed tables of small buckets under a keyed hash: a flood can fill them, never grow them,
 * and with a random seed nobody outside can aim at a chosen bucket.
 */
import { randomBytes } from 'node:crypto';

/** Slots per bucket. */
export const WAYS = 4;

/** Hashes text to a 30-bit tag, never 0 (0 marks an empty slot). */
export type KeyedHash = (text: string) => number;

/** A random seed for keyedHash; relay workers share one, so a source lands in the same bucket on each. */
export function randomHashSeed(): number {
  return randomBytes(4).readUInt32BE(0);
}

/** FNV-1a over the text from a seeded basis, then a full avalanche (murmur3's finaliser). */
export function keyedHash(seed: number = randomHashSeed()): KeyedHash {
  return (text) => {
    let h = (0x811c9dc5 ^ seed) >>> 0;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    // 30 bits: always a small integer to V8, where a full 32-bit tag was a heap number at
    // random and threw the code the start-up warm-up had optimised away (issue 14).
    return (h & 0x3fffffff) || 1;
  };
}

/**
 * Writes a new (all-zero) table's every page once, at start. Otherwise a source's first slot
 * brings its pages in on the source's first request: a fresh source's earn and spend took
 * 55-90 µs so on Node 24 here, against 8 µs with the pages in, on a first call's critical path.
 * The tables are fixed, so this is memory they would take under traffic from many sources anyway.
 */
export function touchEveryPage(...tables: { fill(value: 0): unknown }[]): void {
  for (const table of tables) table.fill(0);
}

/** The mask that takes a tag to the first slot of its bucket, in a table of `slots`. */
export function bucketMask(slots: number): number {
  if (!Number.isInteger(Math.log2(slots)) || slots < WAYS) throw new RangeError(`slots must be a power of two, at least ${WAYS}`);
  return (slots - 1) & ~(WAYS - 1);
}
