// A small, real TURN client over UDP for integration tests: it speaks the protocol through
// Turnpike's own codec but owns its socket, answers 401/438 challenges like a browser does,
// and exposes every response so that tests can assert on codes and attributes.
import { createSocket, type Socket } from 'node:dgram';
import {
  AttributeType,
  MessageBuilder,
  Method,
  StunClass,
  decodeMessage,
  readErrorCode,
  readXorAddress,
  type StunMessage,
  type TransportAddress,
} from '../../src/stun/index.js';
import { Arrival } from './arrival.js';
import type { Cleanups } from './cleanups.js';
import { LongTermSession, type Credentials } from './long-term-session.js';

export type { Credentials } from './long-term-session.js';

export interface Datagram {
  readonly data: Buffer;
  readonly address: string;
  readonly port: number;
}

/** RFC 8489 §6.2.1's recommended initial retransmission timeout. */
export const INITIAL_RTO_MS = 500;

export class UdpTestClient {
  readonly socket: Socket;
  private readonly waiting = new Map<string, (m: StunMessage) => void>();
  /**
   * Transactions already answered: a late second answer (to a retransmission that crossed the
   * first answer, as under load) is dropped, not taken for a Data or ChannelData datagram.
   */
  private readonly answered = new Set<string>();
  private readonly other: Datagram[] = [];
  private readonly arrival = new Arrival();
  /** How it authenticates; tests may switch it to RFC 8489 (`auth.rfc8489`). */
  readonly auth: LongTermSession;

  private constructor(
    readonly server: { address: string; port: number },
    readonly credentials: Credentials | undefined,
    family: 4 | 6,
  ) {
    this.auth = new LongTermSession(credentials);
    this.socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    this.socket.on('message', (data, rinfo) => {
      if (data[0]! < 4 && data.length >= 20) {
        try {
          const m = decodeMessage(data);
          const id = m.transactionId.toString('hex');
          const resolve = this.waiting.get(id);
          if (resolve && m.cls !== StunClass.Indication) {
            this.waiting.delete(id);
            this.answered.add(id);
            return resolve(m);
          }
          if (this.answered.has(id) && m.cls !== StunClass.Indication) return;
        } catch {
          // not ours to judge: keep it as an unsolicited datagram
        }
      }
      this.other.push({ data, address: rinfo.address, port: rinfo.port });
      this.arrival.notify();
    });
  }

  static async open(server: { address: string; port: number }, credentials?: Credentials, bindAddress?: string): Promise<UdpTestClient> {
    const family = server.address.includes(':') ? 6 : 4;
    const client = new UdpTestClient(server, credentials, family);
    await new Promise<void>((r) => client.socket.bind(0, bindAddress ?? (family === 6 ? '::1' : '127.0.0.1'), r));
    return client;
  }

  /** What the last challenge taught; tests may overwrite it to send what a client should not. */
  get realm(): string | undefined {
    return this.auth.realm;
  }
  set realm(realm: string | undefined) {
    this.auth.realm = realm;
  }
  get nonce(): string | undefined {
    return this.auth.nonce;
  }
  get key(): Buffer | undefined {
    return this.auth.key;
  }

  sendRaw(data: Buffer): void {
    this.socket.send(data, this.server.port, this.server.address);
  }

  /**
   * Sends one request as built and waits for its response, retransmitting as RFC 8489
   * §6.2.1 says (RTO 500 ms, doubling: sent at 0, 0.5, 1.5, 3.5 s…) until `timeoutMs`.
   */
  async transact(builder: MessageBuilder, sealed: Buffer = builder.build(), timeoutMs = 2000): Promise<StunMessage> {
    const id = Buffer.from(builder.transactionId).toString('hex');
    let retransmit: NodeJS.Timeout | undefined;
    const send = (rto: number): void => {
      this.sendRaw(sealed);
      retransmit = setTimeout(() => send(rto * 2), rto);
    };
    const response = new Promise<StunMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        clearTimeout(retransmit);
        this.waiting.delete(id);
        reject(new Error(`no response to transaction ${id}`));
      }, timeoutMs);
      this.waiting.set(id, (m) => {
        clearTimeout(timer);
        clearTimeout(retransmit);
        resolve(m);
      });
    });
    send(INITIAL_RTO_MS);
    return response;
  }

  /**
   * Sends an authenticated request, learning REALM and NONCE from a 401 or 438 first when
   * needed, as a real client does. `add` puts the method's attributes on each attempt.
   */
  request(method: number, add: (b: MessageBuilder) => void = () => {}): Promise<StunMessage> {
    return this.auth.request(method, add, (builder, sealed) => this.transact(builder, sealed), true);
  }

  allocate(add: (b: MessageBuilder) => void = (b) => b.addFirstByte(AttributeType.RequestedTransport, 17)): Promise<StunMessage> {
    return this.request(Method.Allocate, add);
  }

  async allocateRelay(): Promise<TransportAddress> {
    const response = await this.allocate();
    const relay = readXorAddress(response, AttributeType.XorRelayedAddress);
    if (!relay) throw new Error(`allocate failed: ${JSON.stringify(readErrorCode(response, AttributeType.ErrorCode))}`);
    return relay;
  }

  createPermission(...peers: TransportAddress[]): Promise<StunMessage> {
    return this.request(Method.CreatePermission, (b) => peers.forEach((p) => b.addXorAddress(AttributeType.XorPeerAddress, p)));
  }

  channelBind(channel: number, peer: TransportAddress): Promise<StunMessage> {
    return this.request(Method.ChannelBind, (b) => b.addChannelNumber(channel).addXorAddress(AttributeType.XorPeerAddress, peer));
  }

  refresh(lifetime?: number): Promise<StunMessage> {
    return this.request(Method.Refresh, (b) => {
      if (lifetime !== undefined) b.addUint32(AttributeType.Lifetime, lifetime);
    });
  }

  sendIndication(peer: TransportAddress, data: Buffer): void {
    this.sendRaw(
      new MessageBuilder(Method.Send, StunClass.Indication).addXorAddress(AttributeType.XorPeerAddress, peer).add(AttributeType.Data, data).build(),
    );
  }

  sendChannelData(channel: number, data: Buffer): void {
    const header = Buffer.alloc(4);
    header.writeUInt16BE(channel, 0);
    header.writeUInt16BE(data.length, 2);
    this.sendRaw(Buffer.concat([header, data]));
  }

  /** The next datagram that is not a response to one of our requests (Data, ChannelData). */
  async nextDatagram(timeoutMs = 2000): Promise<Datagram> {
    await this.arrival.until(() => this.other.length > 0, timeoutMs, 'no datagram arrived');
    return this.other.shift()!;
  }

  /** True when nothing unsolicited arrives within `ms` (to prove a drop). */
  async quietFor(ms: number): Promise<boolean> {
    try {
      await this.nextDatagram(ms);
      return false;
    } catch {
      return true;
    }
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

/**
 * Peers live on another loopback address than the servers under test, as they would on
 * another host: a server refuses data for its own addresses except on its relay ports.
 */
export const PEER_HOST = '127.0.0.2';

/** A peer (see openPeer) that is closed after the test. */
export async function openPeerUntilCleanup(cleanups: Cleanups, address = PEER_HOST): ReturnType<typeof openPeer> {
  const peer = await openPeer(address);
  cleanups.push(() => new Promise<void>((r) => peer.socket.close(() => r())));
  return peer;
}

/** A plain UDP socket standing in for a peer on the far side of the relay. */
export async function openPeer(address = PEER_HOST): Promise<{ socket: Socket; address: TransportAddress; received: Datagram[]; next: (ms?: number) => Promise<Datagram> }> {
  const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((r) => socket.bind(0, address, r));
  const received: Datagram[] = [];
  const arrival = new Arrival();
  socket.on('message', (data, rinfo) => {
    received.push({ data, address: rinfo.address, port: rinfo.port });
    arrival.notify();
  });
  const next = async (ms = 2000): Promise<Datagram> => {
    await arrival.until(() => received.length > 0, ms, 'peer received nothing');
    return received.shift()!;
  };
  return { socket, address: { family: address.includes(':') ? 6 : 4, address, port: (socket.address()).port }, received, next };
}
