/**
 * What the main thread and relay workers tell each other (structured clone: Buffers arrive
 * as Uint8Arrays, so each side revives what it needs as Buffer).
 */
import type { MessagePort } from 'node:worker_threads';
import type { LastKnownChange } from '../auth/last-known.js';
import type { LogLevel, ServerOptions } from '../config/server-options.js';
import type { LogFields } from '../log/logger-interface.js';
import type { RelaySecrets } from '../relay-node.js';
import type { TransportAddress } from '../stun/ip.js';
import type { MetricsReport } from './metrics-report.js';
import type { StreamSignal } from './thread-stream.js';

/** workerData of relay worker `index` of `count`. */
export interface WorkerStart {
  readonly index: number;
  readonly count: number;
  readonly options: ServerOptions;
  readonly secrets: RelaySecrets;
  /** The reply budget's ledger of advances, one for the server (turn/advance-ledger.ts). */
  readonly advanceMemory: SharedArrayBuffer;
  /** Where the allocation ledger counts the grants workers made and main has not recorded yet (turn/ledger-port.ts). */
  readonly ledgerMemory: SharedArrayBuffer;
  /** The alternate-server list's turn (one Uint32), so newcomers are sent round the list by the server. */
  readonly alternateTurns: SharedArrayBuffer;
  /** The ports the first worker bound, in binding order; absent for the first worker, and with portsLater. */
  readonly ports: readonly number[] | undefined;
  /**
   * The first worker's ports come in a 'ports' message once it listens: a worker started
   * alongside it warms up meanwhile, instead of starting only then.
   */
  readonly portsLater?: boolean;
  /** What the other workers' user databases learnt before this one started (a replacement's). */
  readonly lastKnown: readonly LastKnownChange[];
  /** A channel to each other worker, by its number (BetweenWorkers travel there, not via main). */
  readonly peers: readonly (MessagePort | undefined)[];
}

/** A UDP client's request for another worker: an Allocate with its RESERVATION-TOKEN, or a Refresh with its MOBILITY-TICKET (allocate-forwarding.ts). */
export interface ForwardedAllocate {
  /** The listening addr:port the client sent it to, and the client. */
  readonly local: TransportAddress;
  readonly client: TransportAddress;
  readonly packet: Uint8Array;
}

/**
 * What one worker tells another, on their own channel (WorkerStart.peers): an Allocate for the worker holding its
 * reserved port, the reserved port itself (for a client that cannot be forwarded), and RFC 6062 data connections that landed on another worker than their
 * allocation (workers/remote-binds.ts). `channel` is numbered by the data connection's worker.
 */
export type BetweenWorkers =
  | { readonly kind: 'serve-allocate'; readonly allocate: ForwardedAllocate }
  | { readonly kind: 'bind'; readonly channel: number; readonly connectionId: number; readonly username: string }
  | { readonly kind: 'bound'; readonly channel: number; readonly code: number; readonly peer: TransportAddress | undefined }
  | ({ readonly channel: number } & StreamSignal)
  // A reserved port lent to the worker whose TCP, TLS or DTLS client redeems its token (reservation-exchange.ts).
  | { readonly kind: 'claim-reservation'; readonly seq: number; readonly token: Uint8Array }
  | { readonly kind: 'reservation-claimed'; readonly seq: number; readonly lent: TransportAddress | undefined }
  | { readonly kind: 'lent-port-closed'; readonly address: string; readonly port: number };

export type ToWorker =
  // Answered with the same id once in force ('answer': undefined, or why it failed).
  | { readonly type: 'reconfigure'; readonly id: number; readonly options: ServerOptions }
  | { readonly type: 'reload-certificates' }
  | { readonly type: 'count-allocations'; readonly id: number }
  | { readonly type: 'close' }
  // The ports the first worker bound (to a worker started with portsLater).
  | { readonly type: 'ports'; readonly ports: readonly number[] }
  // A replacement worker's channel to this one, in place of the dead worker's (WorkerStart.peers).
  | { readonly type: 'peer'; readonly from: number; readonly port: MessagePort }
  // What another worker's user database learnt or forgot (auth/last-known.ts).
  | { readonly type: 'last-known'; readonly change: LastKnownChange }
  // Metrics and admin across workers: main asks, the worker answers with the same id.
  | { readonly type: 'ask'; readonly id: number; readonly question: Question };

/** What main asks a worker for the metrics and the admin interface; see Answer for the reply. */
export type Question =
  | { readonly what: 'metrics' }
  | { readonly what: 'sessions'; readonly user: string | undefined }
  | { readonly what: 'disconnect'; readonly target: { readonly id: number } | { readonly user: string } }
  | { readonly what: 'drain' }
  | { readonly what: 'in-use' };

export type FromWorker =
  | { readonly type: 'log'; readonly level: LogLevel; readonly message: string; readonly fields: LogFields | undefined }
  | {
      readonly type: 'listening';
      readonly ports: readonly number[];
      readonly udpAddresses: readonly TransportAddress[];
      readonly streamAddresses: readonly TransportAddress[];
      // Apart, for the self-test page's TCP and TLS tests.
      readonly tcpAddresses: readonly TransportAddress[];
      readonly tlsAddresses: readonly TransportAddress[];
    }
  | { readonly type: 'start-failed'; readonly message: string }
  | { readonly type: 'allocations'; readonly id: number; readonly count: number }
  | { readonly type: 'closed' }
  // Metrics and admin across workers: a report pushed every second, and answers to 'ask'.
  | { readonly type: 'metrics'; readonly report: MetricsReport }
  // What this worker's user database learnt or forgot, for main to pass to the other workers.
  | { readonly type: 'last-known'; readonly change: LastKnownChange }
  | { readonly type: 'answer'; readonly id: number; readonly value: unknown };

/** A chunk's bytes move rather than being copied on each hop. */
export const transferOf = (message: BetweenWorkers): ArrayBuffer[] => (message.kind === 'chunk' ? [message.data.buffer as ArrayBuffer] : []);

/** The options as the main thread had them: the static users' keys are Buffers again. */
export function reviveOptions(options: ServerOptions): ServerOptions {
  const users = options.users.map((user) => ({ ...user, key: Buffer.from(user.key), ...(user.sha256Key && { sha256Key: Buffer.from(user.sha256Key) }) }));
  return { ...options, users };
}

export function reviveSecrets(secrets: RelaySecrets): RelaySecrets {
  return { ...secrets, nonce: Buffer.from(secrets.nonce), dtlsCookie: Buffer.from(secrets.dtlsCookie), mobility: Buffer.from(secrets.mobility) };
}
