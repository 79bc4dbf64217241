/**
 * The answer to an allocation's last request, kept for retransmissions (RFC 8489 §6.3.1): a
 * request sent again with the same transaction id gets the same bytes, not a second effect.
 *
 * Kept as a one-byte string, not as the Buffer that was sent: small Buffers are slices of a
 * shared 64 KB pool slab, and one kept slice holds its whole slab. Under relay traffic (a
 * pooled header per ChannelData) the slabs turn over between two allocations' requests, and
 * each allocation would hold a slab of its own for as long as it lives.
 */
const TRANSACTION_ID_AT = 8;
const TRANSACTION_ID_LENGTH = 12;

export class LastAnswer {
  /** The response, whose bytes 8..20 are the transaction id it answers. */
  private response: string | undefined;

  /** Keeps `response` (a STUN message: it carries its request's transaction id). */
  remember(response: Buffer): void {
    this.response = response.toString('latin1');
  }

  /** The kept answer when `transactionId` is the last request's; otherwise undefined. */
  to(transactionId: Buffer): Buffer | undefined {
    const kept = this.response;
    if (kept === undefined || transactionId.length !== TRANSACTION_ID_LENGTH) return undefined;
    for (let i = 0; i < TRANSACTION_ID_LENGTH; i++) {
      if (kept.charCodeAt(TRANSACTION_ID_AT + i) !== transactionId[i]) return undefined;
    }
    return Buffer.from(kept, 'latin1');
  }
}
