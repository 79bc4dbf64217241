/**
 * Requests a plain UDP client sent to one relay worker for what another worker holds. The
 * kernel may hand a client's datagrams to any worker; the receiving worker forwards the request
 * via the workers' channel, and the owner serves it on its own socket of the same listening
 * addr:port and pins the client there (net/udp-session-socket.ts). Two such requests:
 * - an Allocate with EVEN-PORT's RESERVATION-TOKEN: the reserved port is held by the worker
 *   that issued the token (its number is the token's first byte, net/udp-relays.ts);
 * - an RFC 8016 Refresh with a MOBILITY-TICKET from a new 5-tuple: the allocation it moves is
 *   held by the worker its id names (turn/allocation.ts).
 */
import type { TransportAddress } from '../stun/ip.js';
import { workerOfAllocation } from '../turn/allocation.js';
import type { OtherWorkers } from '../turn/engine-context.js';
import type { ClientSession } from '../turn/session.js';
import type { BetweenWorkers } from './messages.js';

type ToWorker = (to: number, message: BetweenWorkers) => void;

function forward(toWorker: ToWorker, owner: number, session: { local: TransportAddress; remote: TransportAddress }, packet: Buffer): void {
  // A copy of just these bytes: a received datagram may be a view into a larger buffer.
  toWorker(owner, { kind: 'serve-allocate', allocate: { local: session.local, client: session.remote, packet: new Uint8Array(packet) } });
}

/**
 * The engine hook of worker `index` of `count`. Plain UDP only: a TCP, TLS or DTLS client's
 * connection or association stays on its worker, which borrows the reserved port instead
 * (reservation-exchange.ts).
 */
export function allocateForwarder(index: number, count: number, toWorker: ToWorker): OtherWorkers['forwardAllocate'] {
  return (session, packet, token) => {
    const owner = token[0]!;
    if (session.transport !== 'udp' || owner === index || owner >= count) return false;
    forward(toWorker, owner, session, packet);
    return true;
  };
}

/**
 * The engine hook for a mobility Refresh. A TCP, TLS or DTLS client's new connection cannot
 * cross threads, so its move to another worker's allocation is refused ('elsewhere').
 */
export function moveForwarder(index: number, count: number, toWorker: ToWorker): OtherWorkers['forwardMove'] {
  return (session: ClientSession, packet, allocationId) => {
    const owner = workerOfAllocation(allocationId, count);
    if (owner === index) return 'here';
    if (session.transport !== 'udp') return 'elsewhere';
    forward(toWorker, owner, session, packet);
    return 'forwarded';
  };
}
