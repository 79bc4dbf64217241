/** What every request handler works with: configuration, injected services, and shared state. */
import type { CredentialSource } from '../auth/credentials.js';
import type { PeerPolicy } from '../policy/peer-policy.js';
import type { Allocation } from './allocation.js';
import type { DataPlane } from './data-plane.js';
import type { EngineCounters } from './counters.js';
import type { ExpiryQueue } from './expiry-queue.js';
import type { Logger } from './logger.js';
import type { NonceIssuer } from './nonce.js';
import type { RelayProvider } from './relay.js';

export type AuthMode = 'long-term' | 'none' | 'stun-only';

export interface EngineConfig {
  readonly realm: string;
  readonly authMode: AuthMode;
  /** SOFTWARE attribute of responses, or undefined for none. */
  readonly software: string | undefined;
  /** Add FINGERPRINT to every response (otherwise only when the request had one). */
  readonly fingerprint: boolean;
  /** Binding requests need credentials too (`secure-stun`). */
  readonly secureStun: boolean;
  readonly noStun: boolean;
  /** UDP relaying allowed (false with `no-udp-relay`: Allocate for UDP gets 442). */
  readonly udpRelay: boolean;
  readonly defaultLifetimeSeconds: number;
  readonly maxLifetimeSeconds: number;
  readonly permissionLifetimeSeconds: number;
  readonly channelLifetimeSeconds: number;
  /** Highest channel number accepted: 0x7FFF (RFC 5766) or 0x4FFF (RFC 8656). */
  readonly maxChannelNumber: number;
}

export interface EngineServices {
  readonly credentials: CredentialSource;
  readonly relays: RelayProvider;
  readonly peerPolicy: PeerPolicy;
  readonly nonces: NonceIssuer;
  readonly logger: Logger;
  /** Milliseconds; injected so that every lifetime rule is testable without waiting. */
  readonly clock: () => number;
}

export interface EngineContext extends EngineServices {
  readonly config: EngineConfig;
  readonly counters: EngineCounters;
  readonly expiry: ExpiryQueue<Allocation>;
  readonly allocations: Set<Allocation>;
  readonly dataPlane: DataPlane;
  /** Removes an allocation everywhere and frees its relay ports. */
  release(allocation: Allocation, reason: string): void;
}
