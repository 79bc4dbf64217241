/**
 * Anti-reflection budget for unsigned answers over plain UDP (401, 438, 400, 420, 300, …).
 *
 * A UDP source address proves nothing, so an attacker can spoof a victim's address and let
 * the server answer small requests with larger challenges. Each source (an IPv4 address or
 * an IPv6 /64: policy/source-network.ts) earns the bytes of the requests it sends and spends them
 * on the unsigned answers it gets.
 *
 * The advance: a browser's first Allocate (28 bytes) cannot pay for a 401 (92 bytes with a
 * 12-character realm, RFC 8489's nonce cookie and PASSWORD-ALGORITHMS included), and waiting
 * for its retransmissions made every first call from an address 0.5–0.8 s slower. So a source
 * may be sent answers it cannot pay for yet, until it owes `advanceBytes` (256: four such
 * 401s, 64 bytes over their Allocates each): the first Allocates of both peers of a call, or of
 * one peer over several sockets, are all challenged at once. Past that, it is answered only
 * out of what it sends. While its slot lasts, a source is sent at most what it sent plus 256 bytes.
 *
 * Re-earning the advance: the credit table (below) forgets a debt when it evicts the slot, so
 * a flood into the bucket, or the source coming back later, would start afresh with a new
 * advance. The ledger of advances (advance-ledger.ts) stops that: what a source owes is lent
 * by the ledger, out of one advance a minute at most, and paid back to it as the source's
 * requests come in; the ledger never drops an entry younger than that, and a debt evicted
 * with its slot is never paid back. A newcomer to a ledger bucket full of recent ones gets no
 * advance, and its challenge waits for a retransmission as it did before advances. So,
 * however both tables are flooded, a source is sent at most what it sent plus 256 bytes a
 * minute. A spoofer walking through many sources gets that from each (one per IPv4 address,
 * one per IPv6 /64), and from at most 65,536 sources a minute in all (the ledger's slots):
 * some 490 KB/s over all of them together. With relay workers, each has its own credit table
 * (earning and spending only what its sockets saw) and all borrow from the one ledger, so the
 * bound holds for the server, and a call's sockets are challenged at once whichever workers
 * the kernel spreads them over.
 *
 * Binding answers are the exception that STUN is: always sent, they take what credit there
 * is and leave a debt as it was, so Bindings neither pay for a challenge nor repay an advance.
 * A plain Binding a native listener answers in C never reaches the budget (docs/native-udp.md).
 *
 * The credit table is fixed-size, so a flood from spoofed addresses cannot grow it: buckets
 * of four slots, and a newcomer takes the least recently used slot of its bucket. A client
 * between two retransmissions keeps its credit unless four newer sources land in its bucket
 * in between, which takes a random-source flood of some 40,000 requests a second with 65,536
 * slots. The hash is keyed with a random seed, so nobody can aim at a chosen source's bucket.
 */
import { AdvanceLedger } from './advance-ledger.js';
import { WAYS, bucketMask, keyedHash, touchEveryPage, type KeyedHash } from './hashed-buckets.js';
import { sourceNetwork } from '../policy/source-network.js';

export interface ReplyBudgetOptions {
  /** Credit slots, a power of two. */
  readonly slots: number;
  /** Credit is capped, so bytes banked long ago cannot come back as one burst. */
  readonly capBytes: number;
  /** How far the unsigned answers to a source may run ahead of its requests. */
  readonly advanceBytes: number;
  /** How often a source may be granted an advance. */
  readonly advanceEveryMs: number;
  /** Slots of the ledger of advances, a power of two: at most this many advances per `advanceEveryMs`. */
  readonly advanceSlots: number;
  /** Milliseconds, for the ledger. */
  readonly clock: () => number;
  /** Seed of the tables' keyed hash; absent: a random one. */
  readonly hashSeed?: number;
  /**
   * Where the ledger of advances lives: a SharedArrayBuffer of AdvanceLedger.bytesFor(advanceSlots)
   * that every relay worker is given, so a source gets its advance once for the server; absent: its own.
   */
  readonly advanceMemory?: ArrayBufferLike;
}

export const REPLY_BUDGET_DEFAULTS: ReplyBudgetOptions = {
  slots: 1 << 16,
  capBytes: 16 * 1024,
  /** Seven 401s (92 bytes with a 12-character realm) to seven 28-byte Allocates, as before RFC 8489's attributes made the 401 28 bytes larger. */
  advanceBytes: 4 * (92 - 28),
  advanceEveryMs: 60_000,
  advanceSlots: 1 << 16,
  clock: Date.now,
};

export class ReplyBudget {
  private readonly tags: Uint32Array;
  /** Bytes in hand; below zero, what the source owes the ledger of advances. */
  private readonly credits: Int32Array;
  /** When each slot was last touched, by a counter: the smallest in a bucket goes first. */
  private readonly touched: Float64Array;
  private readonly bucketMask: number;
  private readonly hash: KeyedHash;
  private readonly options: ReplyBudgetOptions;
  private readonly advances: AdvanceLedger;
  private tick = 0;

  constructor(options: Partial<ReplyBudgetOptions> = {}) {
    this.options = { ...REPLY_BUDGET_DEFAULTS, ...options };
    this.hash = keyedHash(this.options.hashSeed);
    const { slots } = this.options;
    this.bucketMask = bucketMask(slots);
    this.tags = new Uint32Array(slots);
    this.credits = new Int32Array(slots);
    this.touched = new Float64Array(slots);
    touchEveryPage(this.tags, this.credits, this.touched);
    this.advances = new AdvanceLedger(this.options.advanceSlots, this.options.advanceEveryMs, this.options.advanceBytes, this.options.hashSeed, this.options.advanceMemory);
  }

  /** A request of `bytes` arrived from `address`. */
  earn(address: string, bytes: number): void {
    const source = sourceNetwork(address);
    const slot = this.slotOf(source);
    const credit = this.credits[slot]!;
    if (credit < 0) this.advances.repay(source, Math.min(bytes, -credit), this.options.clock());
    this.credits[slot] = Math.min(this.options.capBytes, credit + bytes);
  }

  /** True, and the credit taken, when `address` may be sent an unsigned answer of `bytes`. */
  spend(address: string, bytes: number): boolean {
    const source = sourceNetwork(address);
    const slot = this.slotOf(source);
    const credit = this.credits[slot]!;
    // What the answer adds to the source's debt is lent by the ledger, for the whole server.
    const owedMore = bytes - Math.max(credit, 0);
    if (owedMore > 0 && !this.advances.borrow(source, owedMore, this.options.clock())) return false;
    this.credits[slot] = credit - bytes;
    return true;
  }

  /**
   * A Binding's answer of `answerBytes` to a request of `requestBytes`, sent whatever the
   * budget: it takes what credit there is, and a source that owes owes what it owed before.
   */
  charge(address: string, requestBytes: number, answerBytes: number): void {
    const source = sourceNetwork(address);
    const slot = this.slotOf(source);
    const credit = this.credits[slot]!;
    const before = credit - requestBytes;
    if (before >= 0) {
      this.credits[slot] = Math.max(0, credit - answerBytes);
      return;
    }
    this.credits[slot] = before;
    // earn() paid the ledger back out of this request: it owes that again.
    this.advances.takeBackRepayment(source, Math.min(requestBytes, -before), this.options.clock());
  }

  /** The slot of `source`: its own, or the least recently used of its bucket, emptied. */
  private slotOf(source: string): number {
    const tag = this.hash(source);
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
