/**
 * The reply-budget advances of the last minute (see reply-budget.ts): per source, when its
 * advance was granted and how many of its bytes are lent out now. A table of its own that never
 * lets go of an entry younger than the window. A flood can fill a bucket, and then a newcomer
 * there gets no advance; it can never make the ledger forget one.
 *
 * Relay workers share one: its memory is a SharedArrayBuffer made by the main thread, so a
 * source whose datagrams the kernel spreads over N workers still gets one advance a minute,
 * not N, and any worker may lend from it: a call's sockets, hashed to different workers, are
 * all challenged at once, as on one loop. Each bucket has a lock word, taken with Atomics.compareExchange for the few loads
 * and stores of one decision; the lock's Atomics also make the plain reads and writes under
 * it visible to the next thread that takes it.
 */
import { WAYS, bucketMask, keyedHash, touchEveryPage, type KeyedHash } from './hashed-buckets.js';

const TIME_BYTES = Float64Array.BYTES_PER_ELEMENT;
const TAG_BYTES = Uint32Array.BYTES_PER_ELEMENT;
const LENT_BYTES = Int32Array.BYTES_PER_ELEMENT;
const LOCK_BYTES = Int32Array.BYTES_PER_ELEMENT;
/**
 * Far longer than any holder that is running takes (a few loads and stores); at worst, a holder
 * descheduled that long shares the bucket for one decision, which can cost one extra advance.
 */
const STALE_LOCK_SPINS = 1 << 20;

export class AdvanceLedger {
  /** The memory a ledger of `slots` lives in (832 KiB for 65,536). */
  static bytesFor(slots: number): number {
    return slots * (TIME_BYTES + TAG_BYTES + LENT_BYTES) + (slots / WAYS) * LOCK_BYTES;
  }

  /** New memory for a ledger of `slots`, its pages in (touchEveryPage): a SharedArrayBuffer for relay workers. */
  static memoryFor<T extends ArrayBuffer | SharedArrayBuffer>(slots: number, kind: new (bytes: number) => T): T {
    const memory = new kind(AdvanceLedger.bytesFor(slots));
    touchEveryPage(new Uint8Array(memory));
    return memory;
  }

  private readonly grantedAt: Float64Array;
  private readonly tags: Uint32Array;
  /** Bytes of the advance lent out and not paid back. */
  private readonly lent: Int32Array;
  /** One word a bucket: 1 while a thread decides in it. */
  private readonly locks: Int32Array;
  private readonly bucketMask: number;
  private readonly hash: KeyedHash;

  /**
   * @param memory where the table lives: a SharedArrayBuffer of bytesFor(slots) that every
   *   relay worker is given (with the same hashSeed), or by default this ledger's own.
   */
  constructor(
    slots: number,
    private readonly everyMs: number,
    /** The bytes an advance is worth. */
    private readonly advanceBytes: number,
    hashSeed?: number,
    memory: ArrayBufferLike = AdvanceLedger.memoryFor(slots, ArrayBuffer),
  ) {
    this.hash = keyedHash(hashSeed);
    this.bucketMask = bucketMask(slots);
    if (memory.byteLength < AdvanceLedger.bytesFor(slots)) throw new RangeError(`an advance ledger of ${slots} slots needs ${AdvanceLedger.bytesFor(slots)} bytes`);
    this.grantedAt = new Float64Array(memory, 0, slots);
    this.tags = new Uint32Array(memory, slots * TIME_BYTES, slots);
    this.lent = new Int32Array(memory, slots * (TIME_BYTES + TAG_BYTES), slots);
    this.locks = new Int32Array(memory, slots * (TIME_BYTES + TAG_BYTES + LENT_BYTES), slots / WAYS);
  }

  /**
   * True, and lent, when `bytes` more fit in the advance of `source`: the one it was granted
   * in the last `everyMs`, or a new one if it has none and the ledger has room.
   */
  borrow(source: string, bytes: number, now: number): boolean {
    return this.locked(source, (bucket, tag) => {
      const slot = this.grantIn(bucket, tag, now);
      if (slot < 0 || this.lent[slot]! + bytes > this.advanceBytes) return false;
      this.lent[slot] = this.lent[slot]! + bytes;
      return true;
    });
  }

  /** `bytes` of what `source` owes came in: its advance of this minute may lend them again. */
  repay(source: string, bytes: number, now: number): void {
    this.addToLent(source, -bytes, now);
  }

  /** A repayment of `bytes` is taken back: a Binding's request pays no debt (reply-budget.ts). */
  takeBackRepayment(source: string, bytes: number, now: number): void {
    this.addToLent(source, bytes, now);
  }

  private addToLent(source: string, bytes: number, now: number): void {
    this.locked(source, (bucket, tag) => {
      const slot = this.current(bucket, tag, now);
      if (slot >= 0) this.lent[slot] = Math.max(0, this.lent[slot]! + bytes);
      return true;
    });
  }

  /** Runs `decide` on the bucket of `source` with that bucket's lock held. */
  private locked(source: string, decide: (bucket: number, tag: number) => boolean): boolean {
    const tag = this.hash(source);
    const bucket = tag & this.bucketMask;
    const lock = bucket / WAYS;
    // Held for a handful of loads and stores, by another worker at most: spinning is cheaper than waiting.
    for (let spins = 0; Atomics.compareExchange(this.locks, lock, 0, 1) !== 0; spins++) {
      // A worker terminated while it decided here never frees the lock: past this, take it over.
      if (spins === STALE_LOCK_SPINS) break;
    }
    try {
      return decide(bucket, tag);
    } finally {
      Atomics.store(this.locks, lock, 0);
    }
  }

  /** The slot of the advance `tag` was granted within `everyMs` of `now`, or -1. */
  private current(bucket: number, tag: number, now: number): number {
    for (let slot = bucket; slot < bucket + WAYS; slot++) {
      if (this.tags[slot] === tag && now - this.grantedAt[slot]! < this.everyMs) return slot;
    }
    return -1;
  }

  /** The slot of `tag`'s current advance, granted now if it has none and there is room; else -1. */
  private grantIn(bucket: number, tag: number, now: number): number {
    let place = -1;
    for (let slot = bucket; slot < bucket + WAYS; slot++) {
      const expired = now - this.grantedAt[slot]! >= this.everyMs;
      if (this.tags[slot] === tag) {
        if (!expired) return slot;
        place = slot;
        break;
      }
      if (place < 0 && (this.tags[slot] === 0 || expired)) place = slot;
    }
    if (place < 0) return -1;
    this.tags[place] = tag;
    this.grantedAt[place] = now;
    this.lent[place] = 0;
    return place;
  }
}
