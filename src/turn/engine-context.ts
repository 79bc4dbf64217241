/** What every request handler works with: configuration, injected services, and shared state. */
import type { AllocationReports } from './allocation-reports.js';
import type { CredentialSource } from '../auth/credentials.js';
import type { OAuthKeySource } from '../auth/oauth.js';
import type { TransportAddress } from '../stun/ip.js';
import type { AllocationGate } from './allocation-gate.js';
import type { PeerPolicy } from '../policy/peer-policy.js';
import type { Allocation } from './allocation.js';
import type { DataPlane } from './data-plane.js';
import type { EngineCounters } from './counters.js';
import type { ExpiryQueue } from './expiry-queue.js';
import type { Logger } from '../log/logger-interface.js';
import type { NonceIssuer } from './nonce.js';
import type { PeerConnection, RelayProvider, TcpRelayProvider } from './relay.js';
import type { PendingConnections } from './tcp-relay.js';
import type { AllocationLedger } from './ledger.js';
import type { ReplyBudget } from './reply-budget.js';
import type { AlternateAddresses } from './nat-discovery.js';
import type { MobilityTickets } from './mobility-ticket.js';
import type { ClientSession } from './session.js';

export type AuthMode = 'long-term' | 'none' | 'stun-only';

export interface EngineConfig {
  readonly realm: string;
  readonly authMode: AuthMode;
  /** `oauth` (RFC 7635): the server name tokens are made for (coturn's `server-name`); undefined: off. */
  readonly oauthServerName?: string;
  /** SOFTWARE attribute of responses, or undefined for none. */
  readonly software: string | undefined;
  /** Add FINGERPRINT to every response (otherwise only when the request had one). */
  readonly fingerprint: boolean;
  /** Relay family for an Allocate without REQUESTED-ADDRESS-FAMILY; keep: the family of the address reached. */
  readonly defaultAddressFamily: 'ipv4' | 'ipv6' | 'keep';
  /** Answer RFC 3489 Binding requests (no magic cookie) with MAPPED-ADDRESS; otherwise drop them. */
  readonly stunBackwardCompatibility: boolean;
  /** Log each Binding request at info. */
  readonly logBinding: boolean;
  /** Binding requests need credentials too (`secure-stun`). */
  readonly secureStun: boolean;
  readonly noStun: boolean;
  /** RFC 8016: MOBILITY-TICKETs are issued and honoured; off, a request carrying one gets 405. */
  readonly mobility: boolean;
  /** UDP relaying allowed (false with `no-udp-relay`: Allocate for UDP gets 442). */
  readonly udpRelay: boolean;
  /** TCP relaying allowed (false with `no-tcp-relay`: Allocate for TCP gets 442). */
  readonly tcpRelay: boolean;
  readonly defaultLifetimeSeconds: number;
  readonly maxLifetimeSeconds: number;
  readonly permissionLifetimeSeconds: number;
  readonly channelLifetimeSeconds: number;
  /** Highest channel number accepted: 0x7FFF (RFC 5766) or 0x4FFF (RFC 8656). */
  readonly maxChannelNumber: number;
  /** Allocations per user and in all (`user-quota`, `total-quota`); 0: unlimited. */
  readonly userQuota: number;
  readonly totalQuota: number;
  /** Bytes per second per allocation and direction (`max-bps`); 0: unlimited. */
  readonly maxBps: number;
  /** All allocations' `max-bps` together (`bps-capacity`); 0: unlimited. */
  readonly bpsCapacity: number;
  /** Separates expiry and user in REST API names (`rest-api-separator`). */
  readonly restApiSeparator: string;
  /** Resource caps per allocation: past them CreatePermission and ChannelBind get 508. */
  readonly maxPermissionsPerAllocation: number;
  readonly maxChannelsPerAllocation: number;
  /** `alternate-server` / `tls-alternate-server`: where every Allocate is redirected (300). */
  readonly alternateServers: readonly TransportAddress[];
  readonly tlsAlternateServers: readonly TransportAddress[];
}

/** Per-realm overrides of the quotas and bandwidth (coturn's `turn_realm_option` rows). */
export interface RealmOptions {
  readonly userQuota?: number;
  readonly totalQuota?: number;
  readonly maxBps?: number;
}

export interface EngineServices {
  readonly credentials: CredentialSource;
  /** The user database's `oauth_key` rows, with `oauth`. */
  readonly oauthKeys?: OAuthKeySource;
  readonly relays: RelayProvider;
  /** RFC 6062 TCP relays; absent: Allocate for TCP gets 442. */
  readonly tcpRelays?: TcpRelayProvider;
  readonly peerPolicy: PeerPolicy;
  readonly nonces: NonceIssuer;
  /**
   * Decides user-quota, total-quota and bps-capacity: a LocalLedger in one thread, a
   * LedgerClient (ledger-port.ts) in a relay worker, so the limits hold across workers.
   */
  readonly ledger: AllocationLedger;
  /** Caps unsigned answers over plain UDP at what each source sent; absent: no cap. */
  readonly replyBudget?: ReplyBudget;
  /** RFC 5780 is served (two listening IPs, no `no-rfc5780`): where OTHER-ADDRESS is and how to answer from it. */
  readonly alternateAddresses?: AlternateAddresses;
  readonly logger: Logger;
  /** Told of every allocation that ends, after it is closed (metrics keep its totals). */
  readonly onAllocationEnded?: (allocation: Allocation) => void;
  /** `redis-statsdb`: told of every new, refreshed and deleted allocation; absent: nobody is. */
  readonly allocationReports?: AllocationReports;
  /** Per-realm quota and bandwidth values from the user database, when there is one. */
  readonly realmOptions?: (realm: string) => RealmOptions;
  /** Relay workers: what this engine hands to, or asks of, the other workers' engines. */
  readonly otherWorkers?: OtherWorkers;
  /** RFC 8016 tickets under a secret every relay worker shares; absent: a secret of this engine's own. */
  readonly mobilityTickets?: MobilityTickets;
  /** The alternate-server list's turn, one cell shared by every relay worker; absent: the engine's own. */
  readonly alternateTurns?: Uint32Array;
  /** Milliseconds; injected so that every lifetime rule is testable without waiting. */
  readonly clock: () => number;
}

/** An engine's view of the other relay workers (workers/relay-worker.ts implements it). */
export interface OtherWorkers {
  /** This worker's number: the first byte of the CONNECTION-IDs it issues. */
  readonly index: number;
  /**
   * Hands an Allocate whose RESERVATION-TOKEN another worker issued to that worker, which
   * holds the reserved port and answers the client itself; true when handed.
   */
  forwardAllocate(session: ClientSession, packet: Buffer, token: Buffer): boolean;
  /**
   * A ConnectionBind for another worker's CONNECTION-ID: resolves to the peer connection (its
   * bytes cross threads) or the error code to answer; undefined when the id is this worker's.
   */
  bindElsewhere(connectionId: number, username: string): Promise<PeerConnection | number> | undefined;
  /**
   * RFC 8016: a Refresh whose MOBILITY-TICKET names allocation `allocationId`. 'here': this
   * worker holds it; 'forwarded': a UDP client's request went to the worker that does, which
   * answers; 'elsewhere': another worker holds it and this client's connection cannot move there.
   */
  forwardMove(session: ClientSession, packet: Buffer, allocationId: number): 'here' | 'forwarded' | 'elsewhere';
}

export interface EngineContext extends EngineServices {
  readonly config: EngineConfig;
  readonly mobilityTickets: MobilityTickets;
  readonly counters: EngineCounters;
  readonly expiry: ExpiryQueue<Allocation>;
  readonly allocations: Set<Allocation>;
  readonly dataPlane: DataPlane;
  readonly pendingConnections: PendingConnections;
  /** Redirects and drain: whether a new allocation may be made here. */
  readonly gate: AllocationGate;
  /** Removes an allocation everywhere and frees its relay ports. */
  release(allocation: Allocation, reason: string): void;
}
