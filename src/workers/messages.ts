/**
 * What the main thread and relay workers tell each other (structured clone: Buffers arrive
 * as Uint8Arrays, so each side revives what it needs as Buffer).
 */
import type { LogLevel, ServerOptions } from '../config/server-options.js';
import type { LogFields } from '../log/logger-interface.js';
import type { RelaySecrets } from '../relay-node.js';
import type { TransportAddress } from '../stun/ip.js';

/** workerData of relay worker `index` of `count`. */
export interface WorkerStart {
  readonly index: number;
  readonly count: number;
  readonly options: ServerOptions;
  readonly secrets: RelaySecrets;
  /** The ports the first worker bound, in binding order; absent for the first worker. */
  readonly ports: readonly number[] | undefined;
}

/** An Allocate with a RESERVATION-TOKEN, from the worker a UDP client reached to the token's worker. */
export interface ForwardedAllocate {
  /** The listening addr:port the client sent it to, and the client. */
  readonly local: TransportAddress;
  readonly client: TransportAddress;
  readonly packet: Uint8Array;
}

export type ToWorker =
  | { readonly type: 'reconfigure'; readonly options: ServerOptions }
  | { readonly type: 'reload-certificates' }
  | { readonly type: 'count-allocations'; readonly id: number }
  | { readonly type: 'close' }
  | { readonly type: 'serve-allocate'; readonly allocate: ForwardedAllocate };

export type FromWorker =
  | { readonly type: 'log'; readonly level: LogLevel; readonly message: string; readonly fields: LogFields | undefined }
  | {
      readonly type: 'listening';
      readonly ports: readonly number[];
      readonly udpAddresses: readonly TransportAddress[];
      readonly streamAddresses: readonly TransportAddress[];
    }
  | { readonly type: 'start-failed'; readonly message: string }
  | { readonly type: 'allocations'; readonly id: number; readonly count: number }
  | { readonly type: 'closed' }
  | { readonly type: 'forward-allocate'; readonly to: number; readonly allocate: ForwardedAllocate };

/** The options as the main thread had them: the static users' keys are Buffers again. */
export function reviveOptions(options: ServerOptions): ServerOptions {
  return { ...options, users: options.users.map((user) => ({ ...user, key: Buffer.from(user.key) })) };
}

export function reviveSecrets(secrets: RelaySecrets): RelaySecrets {
  return { ...secrets, nonce: Buffer.from(secrets.nonce), dtlsCookie: Buffer.from(secrets.dtlsCookie) };
}
