/**
 * Anti-reflection budget for unsigned answers over plain UDP (401, 438, 400, 420, …).
 *
 * A UDP source address proves nothing, so an attacker can spoof a victim's address and let
 * the server answer small requests with larger challenges. Each source IP earns the bytes
 * of the requests it sends and spends them on the unsigned answers it gets: over any run,
 * a source is sent at most what it sent. A client whose first request is smaller than the
 * challenge gets it on a retransmission (RFC 8489 §6.2.1: 0, 0.5, 1.5 s).
 *
 * The table is fixed-size, so a flood from spoofed addresses cannot grow it: a source that
 * collides with another takes its slot and starts from nothing. The hash is seeded so that
 * nobody can aim collisions at a chosen address.
 */
import { randomBytes } from 'node:crypto';

const DEFAULT_SLOTS = 1 << 14;
/** Credit is capped, so bytes banked long ago cannot come back as one burst. */
const DEFAULT_CAP_BYTES = 16 * 1024;

export class ReplyBudget {
  private readonly tags: Uint32Array;
  private readonly credits: Uint32Array;
  private readonly mask: number;
  private readonly seed = randomBytes(4).readUInt32BE(0);

  constructor(
    slots = DEFAULT_SLOTS,
    private readonly capBytes = DEFAULT_CAP_BYTES,
  ) {
    if (!Number.isInteger(Math.log2(slots))) throw new RangeError('slots must be a power of two');
    this.tags = new Uint32Array(slots);
    this.credits = new Uint32Array(slots);
    this.mask = slots - 1;
  }

  /** A request of `bytes` arrived from `address`. */
  earn(address: string, bytes: number): void {
    const slot = this.slotOf(address);
    this.credits[slot] = Math.min(this.capBytes, this.credits[slot]! + bytes);
  }

  /** True, and the credit taken, when `address` may be sent an unsigned answer of `bytes`. */
  spend(address: string, bytes: number): boolean {
    const slot = this.slotOf(address);
    const credit = this.credits[slot]!;
    if (credit < bytes) return false;
    this.credits[slot] = credit - bytes;
    return true;
  }

  /** The slot of `address`, emptied first when another address held it. */
  private slotOf(address: string): number {
    const tag = this.hash(address) || 1;
    const slot = tag & this.mask;
    if (this.tags[slot] !== tag) {
      this.tags[slot] = tag;
      this.credits[slot] = 0;
    }
    return slot;
  }

  /** FNV-1a over the address text, from a random basis. */
  private hash(address: string): number {
    let h = (0x811c9dc5 ^ this.seed) >>> 0;
    for (let i = 0; i < address.length; i++) {
      h ^= address.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h;
  }
}
