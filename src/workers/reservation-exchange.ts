/**
 * EVEN-PORT's RESERVATION-TOKEN redeemed by a TCP, TLS or DTLS client on another relay worker
 * than the one holding the reserved port (a UDP client's Allocate is forwarded instead,
 * allocate-forwarding.ts). The client's connection cannot move between threads, so the port
 * moves: the owner closes its reserved socket and lends the port, the redeeming worker binds
 * it, and gives it back when its allocation ends (net/udp-relays.ts).
 */
import type { ForeignReservations, UdpRelays } from '../net/udp-relays.js';
import type { TransportAddress } from '../stun/ip.js';
import type { BetweenWorkers } from './messages.js';

/** An owner that does not answer in this long (it died) lends nothing: the client gets 508. */
const CLAIM_TIMEOUT_MS = 2000;

export type ReservationMessage = Extract<BetweenWorkers, { kind: 'claim-reservation' | 'reservation-claimed' | 'lent-port-closed' }>;

export const isReservationMessage = (message: BetweenWorkers): message is ReservationMessage =>
  message.kind === 'claim-reservation' || message.kind === 'reservation-claimed' || message.kind === 'lent-port-closed';

export class ReservationExchange implements ForeignReservations {
  private nextSeq = 0;
  private readonly waiting = new Map<number, (lent: TransportAddress | undefined) => void>();

  constructor(private readonly toWorker: (to: number, message: BetweenWorkers) => void) {}

  claim(token: Buffer): Promise<TransportAddress | undefined> {
    const seq = this.nextSeq++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(seq, undefined), CLAIM_TIMEOUT_MS);
      this.waiting.set(seq, (lent) => {
        clearTimeout(timer);
        resolve(lent);
      });
      this.toWorker(token[0]!, { kind: 'claim-reservation', seq, token: new Uint8Array(token) });
    });
  }

  giveBack(token: Buffer, address: string, port: number): void {
    this.toWorker(token[0]!, { kind: 'lent-port-closed', address, port });
  }

  /** A message from worker `from`: a claim on this worker's reservation, an answer, or a port returned. */
  receive(from: number, message: ReservationMessage, relays: UdpRelays): void {
    switch (message.kind) {
      case 'claim-reservation':
        return void relays.surrender(Buffer.from(message.token)).then((lent) => this.toWorker(from, { kind: 'reservation-claimed', seq: message.seq, lent }));
      case 'reservation-claimed':
        return this.settle(message.seq, message.lent);
      case 'lent-port-closed':
        return relays.takeBack(message.address, message.port);
    }
  }

  private settle(seq: number, lent: TransportAddress | undefined): void {
    const answer = this.waiting.get(seq);
    this.waiting.delete(seq);
    answer?.(lent);
  }
}
