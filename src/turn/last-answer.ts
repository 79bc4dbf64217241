/**
 * The answer to an allocation's last request, kept for retransmissions (RFC 8489 §6.3.1): a
 * request sent again with the same transaction id gets the same bytes, not a second effect.
 */
export class LastAnswer {
  private transactionId: Buffer | undefined;
  private response: Buffer | undefined;

  remember(transactionId: Buffer, response: Buffer): void {
    this.transactionId = Buffer.from(transactionId);
    this.response = response;
  }

  /** The kept answer when `transactionId` is the last request's; otherwise undefined. */
  to(transactionId: Buffer): Buffer | undefined {
    return this.transactionId?.equals(transactionId) ? this.response : undefined;
  }
}
