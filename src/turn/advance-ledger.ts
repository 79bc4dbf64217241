/**
 * Which sources have had a reply-budget advance lately (see reply-budget.ts): a table of its
 * own that never lets go of an entry younger than the window. A flood can fill a bucket, and
 * then a newcomer there gets no advance; it can never make the ledger forget one.
 */
import { WAYS, bucketMask, keyedHash, type KeyedHash } from './hashed-buckets.js';

export class AdvanceLedger {
  private readonly tags: Uint32Array;
  private readonly grantedAt: Float64Array;
  private readonly bucketMask: number;
  private readonly hash: KeyedHash;

  constructor(
    slots: number,
    private readonly everyMs: number,
    hashSeed?: number,
  ) {
    this.hash = keyedHash(hashSeed);
    this.bucketMask = bucketMask(slots);
    this.tags = new Uint32Array(slots);
    this.grantedAt = new Float64Array(slots);
  }

  /** True, and noted, when `source` has had no advance in the last `everyMs`. */
  grant(source: string, now: number): boolean {
    const tag = this.hash(source);
    const bucket = tag & this.bucketMask;
    let place = -1;
    for (let slot = bucket; slot < bucket + WAYS; slot++) {
      const expired = now - this.grantedAt[slot]! >= this.everyMs;
      if (this.tags[slot] === tag) {
        if (!expired) return false;
        place = slot;
        break;
      }
      if (place < 0 && (this.tags[slot] === 0 || expired)) place = slot;
    }
    if (place < 0) return false;
    this.tags[place] = tag;
    this.grantedAt[place] = now;
    return true;
  }
}
