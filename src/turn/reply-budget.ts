/**
 * Anti-reflection budget for unsigned answers over plain UDP (401, 438, 400, 420, 300, …).
 *
 * A UDP source address proves nothing, so an attacker can spoof a victim's address and let
 * the server answer small requests with larger challenges. Each source IP earns the bytes
 * of the requests it sends and spends them on the unsigned answers it gets.
 *
 * The advance: a browser's first Allocate (28 bytes) cannot pay for a 401 (64 bytes with a
 * 12-character realm), and waiting for its retransmissions made every first call from an
 * address 0.5–0.8 s slower. So a source that owes nothing may be sent one answer it cannot
 * pay for yet, up to `advanceBytes` short; its credit goes below zero, and it is sent nothing
 * unsigned again until its requests have repaid that. While its slot lasts, a source is sent
 * at most what it sent plus one advance (36 bytes for that Allocate and 401).
 *
 * Re-earning the advance: the credit table is fixed (below) and forgets a debt when it
 * evicts its slot, so a flood into the bucket, or a source coming back later, could start
 * it afresh. The ledger of advances (advance-ledger.ts) stops that: an advance is given only
 * to a network (an IPv4 address, an IPv6 /64) that has had none in the last minute, and the
 * ledger never drops an entry younger than that; a newcomer to a bucket full of recent ones
 * gets no advance and its challenge waits for a retransmission, as it did before advances.
 * So, however the credit table is flooded, a source is sent at most what it sent plus one
 * advance a minute. A spoofer walking through many addresses gets one advance for each
 * (one per /64 over IPv6), and at most as many a minute as the ledger has slots, in all.
 *
 * Binding answers are the exception that STUN is: always sent, they take what credit there
 * is and leave a debt as it was, so Bindings neither pay for a challenge nor repay an advance.
 *
 * The credit table is fixed-size, so a flood from spoofed addresses cannot grow it: buckets
 * of four slots, and a newcomer takes the least recently used slot of its bucket. A client
 * between two retransmissions keeps its credit unless four newer sources land in its bucket
 * in between, which takes a random-source flood of some 40,000 requests a second with 65,536
 * slots. The hash is keyed with a random seed, so nobody can aim at a chosen address's bucket.
 */
import { AdvanceLedger } from './advance-ledger.js';
import { WAYS, bucketMask, keyedHash } from './hashed-buckets.js';

export interface ReplyBudgetOptions {
  /** Credit slots, a power of two. */
  readonly slots: number;
  /** Credit is capped, so bytes banked long ago cannot come back as one burst. */
  readonly capBytes: number;
  /** How far short of its credit a source may be sent one answer: a 401 with a realm of up to 100 characters after a 28-byte Allocate. */
  readonly advanceBytes: number;
  /** How often a network may have an advance. */
  readonly advanceEveryMs: number;
  /** Slots of the ledger of advances, a power of two: at most this many advances per `advanceEveryMs`. */
  readonly advanceSlots: number;
  /** Milliseconds, for the ledger. */
  readonly clock: () => number;
}

const DEFAULTS: ReplyBudgetOptions = {
  slots: 1 << 16,
  capBytes: 16 * 1024,
  advanceBytes: 128,
  advanceEveryMs: 60_000,
  advanceSlots: 1 << 16,
  clock: Date.now,
};

export class ReplyBudget {
  private readonly tags: Uint32Array;
  /** Bytes in hand; below zero, what an advance has not been repaid of. */
  private readonly credits: Int32Array;
  /** When each slot was last touched, by a counter: the smallest in a bucket goes first. */
  private readonly touched: Float64Array;
  private readonly bucketMask: number;
  private readonly hash = keyedHash();
  private readonly options: ReplyBudgetOptions;
  private readonly advances: AdvanceLedger;
  private tick = 0;

  constructor(options: Partial<ReplyBudgetOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
    const { slots } = this.options;
    this.bucketMask = bucketMask(slots);
    this.tags = new Uint32Array(slots);
    this.credits = new Int32Array(slots);
    this.touched = new Float64Array(slots);
    this.advances = new AdvanceLedger(this.options.advanceSlots, this.options.advanceEveryMs);
  }

  /** A request of `bytes` arrived from `address`. */
  earn(address: string, bytes: number): void {
    const slot = this.slotOf(address);
    this.credits[slot] = Math.min(this.options.capBytes, this.credits[slot]! + bytes);
  }

  /** True, and the credit taken, when `address` may be sent an unsigned answer of `bytes`. */
  spend(address: string, bytes: number): boolean {
    const slot = this.slotOf(address);
    const credit = this.credits[slot]!;
    if (credit >= bytes) {
      this.credits[slot] = credit - bytes;
      return true;
    }
    // Short: an advance, for a source that owes nothing, if its network has had none lately.
    if (credit < 0 || bytes - credit > this.options.advanceBytes) return false;
    if (!this.advances.grant(address, this.options.clock())) return false;
    this.credits[slot] = credit - bytes;
    return true;
  }

  /**
   * A Binding's answer of `answerBytes` to a request of `requestBytes`, sent whatever the
   * budget: it takes what credit there is, and a source in debt owes what it owed before.
   */
  charge(address: string, requestBytes: number, answerBytes: number): void {
    const slot = this.slotOf(address);
    const credit = this.credits[slot]!;
    const before = credit - requestBytes;
    this.credits[slot] = before < 0 ? before : Math.max(0, credit - answerBytes);
  }

  /** The slot of `address`: its own, or the least recently used of its bucket, emptied. */
  private slotOf(address: string): number {
    const tag = this.hash(address);
    const bucket = tag & this.bucketMask;
    let victim = bucket;
    for (let slot = bucket; slot < bucket + WAYS; slot++) {
      if (this.tags[slot] === tag) {
        this.touched[slot] = ++this.tick;
        return slot;
      }
      if (this.touched[slot]! < this.touched[victim]!) victim = slot;
    }
    this.tags[victim] = tag;
    this.credits[victim] = 0;
    this.touched[victim] = ++this.tick;
    return victim;
  }
}
