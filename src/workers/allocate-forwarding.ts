/**
 * EVEN-PORT's RESERVATION-TOKEN across relay workers: the reserved port is held by the worker
 * that issued the token (its number is the token's first byte, net/udp-relays.ts), while the
 * kernel may hand the redeeming client's datagrams to any worker. The receiving worker
 * forwards the Allocate via the main thread; the owner serves it on its own socket of the
 * same listening addr:port and pins the client there (net/udp-session-socket.ts).
 */
import type { OtherWorkers } from '../turn/engine-context.js';
import type { BetweenWorkers } from './messages.js';

type Forward = OtherWorkers['forwardAllocate'];

/**
 * The engine hook of worker `index` of `count`. Plain UDP only: a TCP, TLS or DTLS client's
 * connection or association stays on its worker, which borrows the reserved port instead
 * (reservation-exchange.ts).
 */
export function allocateForwarder(index: number, count: number, toWorker: (to: number, message: BetweenWorkers) => void): Forward {
  return (session, packet, token) => {
    const owner = token[0]!;
    if (session.transport !== 'udp' || owner === index || owner >= count) return false;
    // A copy of just these bytes: a received datagram may be a view into a larger buffer.
    toWorker(owner, { kind: 'serve-allocate', allocate: { local: session.local, client: session.remote, packet: new Uint8Array(packet) } });
    return true;
  };
}
