/** The engine's view of relay sockets: the net layer opens them from the min..max port range. */
import type { Duplex } from 'node:stream';
import type { IpFamily, TransportAddress } from '../stun/ip.js';

export interface RelayEndpoint {
  /** The relay transport address on this host (before any external-ip mapping). */
  readonly local: TransportAddress;
  /** What clients are told (XOR-RELAYED-ADDRESS): `external-ip` applied. */
  readonly advertised: TransportAddress;
  /** `data` needs to stay valid only during the call: a TCP client's frame may be a view of a reused read buffer. */
  send(data: Buffer, offset: number, length: number, port: number, address: string): void;
  close(): void;
  /** Its native UDP I/O socket number while open, for channel routes (routed-channels.ts). */
  readonly nativeId?: number;
}

/**
 * A peer's datagram: `length` bytes of `data` from `offset` (the whole Buffer when absent). With
 * native UDP I/O, `data` is a receive area reused after the handler returns: keep no view of it.
 */
export type PeerPacketHandler = (data: Buffer, address: string, port: number, offset?: number, length?: number) => void;

export interface RelayRequest {
  readonly family: IpFamily;
  /** The server address the client reached: relay there when no relay-ip says otherwise. */
  readonly preferredAddress?: string;
  /** EVEN-PORT: the relay port must be even. */
  readonly evenPort: boolean;
  /** EVEN-PORT with the R bit: hold port+1 and hand back a reservation token. */
  readonly reserveNext: boolean;
  /** RESERVATION-TOKEN: take the port held for this token. */
  readonly reservationToken?: Buffer;
}

export type RelayOpenResult =
  | { readonly ok: true; readonly endpoint: RelayEndpoint; readonly reservationToken?: Buffer }
  | { readonly ok: false; readonly reason: 'no-address' | 'exhausted' | 'bad-token' };

export interface RelayProvider {
  /** Families this server has relay addresses for. */
  hasFamily(family: IpFamily): boolean;
  /** Relayed datagrams leave with DF set, so DONT-FRAGMENT can be honoured (else 420). */
  readonly setsDontFragment: boolean;
  /** The result itself when it is known at once (a spare relay socket). */
  open(request: RelayRequest, onPacket: PeerPacketHandler): RelayOpenResult | Promise<RelayOpenResult>;
}

/** A TCP connection between a TCP relay and one peer (RFC 6062). */
export interface PeerConnection {
  readonly peer: TransportAddress;
  /**
   * Joins the peer's bytes with a client data connection, both ways, from now on, after
   * `early`: what the client sent behind its ConnectionBind before it was bound. `count`
   * hears of every chunk (for the allocation's traffic counters).
   */
  join(client: Duplex, early: Buffer, count?: (fromPeer: boolean, bytes: number) => void): void;
  close(): void;
  onClose(listener: () => void): void;
}

/** An RFC 6062 relayed transport address: listens for peers and connects to them. */
export interface TcpRelayEndpoint {
  readonly local: TransportAddress;
  readonly advertised: TransportAddress;
  /** Connects to `peer`; undefined when that fails or times out. */
  connect(peer: TransportAddress, timeoutMs: number): Promise<PeerConnection | undefined>;
  close(): void;
}

export type TcpRelayOpenResult =
  | { readonly ok: true; readonly endpoint: TcpRelayEndpoint }
  | { readonly ok: false; readonly reason: 'no-address' | 'exhausted' };

export interface TcpRelayProvider {
  open(family: IpFamily, preferredAddress: string | undefined, onIncoming: (connection: PeerConnection) => void): Promise<TcpRelayOpenResult>;
}
