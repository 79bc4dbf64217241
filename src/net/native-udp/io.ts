/**
 * The JS side of native/udp-io.c: sockets by number, and once per event-loop turn the turn's
 * datagrams, each handed to its socket's handler as a part of one shared receive area. What a
 * handler relays from that area is queued (socket, offset, length, ChannelData header,
 * destination as numbers) and leaves in one sendmmsg after the batch: no Buffer, string or
 * object is made per datagram on that path. What a handler made itself during the batch (a
 * DTLS record, a decrypted payload) is copied into the send area behind the receive area and
 * queued the same way. Anything else is sent at once, copied by the kernel.
 */
import { bytesToIpv6, ipv4ToBytes, ipv6ToBytes } from '../../stun/ip.js';
import type { ChannelRouter } from '../../turn/routed-channels.js';
import type { KeyBlock } from '../dtls/suites.js';
import type { BindingAnswerer } from '../../turn/binding.js';

/** The addon's functions (native/udp-io.c). */
export interface UdpIoAddon {
  start(onBatch: (count: number) => number): {
    slab: ArrayBuffer;
    meta: ArrayBuffer;
    queue: ArrayBuffer;
    stats: ArrayBuffer;
    routeCounts: ArrayBuffer;
    slots: number;
    slotBytes: number;
    sendAreaBytes: number;
    stride: number;
    queueSize: number;
  };
  open(family: number, ip: string, port: number, reusePort: boolean, receiveBufferSize: number, remoteIp?: string, remotePort?: number): number;
  localPort(id: number): number;
  close(id: number): void;
  send(id: number, data: Buffer, offset: number, length: number, port?: number, ip?: string): number;
  /** Sends the first `count` queued entries now. */
  flush(count: number): void;
  /** Channel routes (udp-routes.h): -1 when it cannot be made. clientIp "" on a client's own socket. */
  routeAdd(clientId: number, clientIp: string, clientPort: number, channel: number, relayId: number, peerIp: string, peerPort: number, channelExpiresAt: number, permissionExpiresAt: number): number;
  routeExpiry(handle: number, channelExpiresAt: number, permissionExpiresAt: number): void;
  /** Its counts into `routeCounts`. */
  routeCounts(handle: number): void;
  /** Its last counts into `routeCounts`, then gone. */
  routeRemove(handle: number): void;
  /** While held, every datagram of client socket `id` goes to JS. */
  hold(id: number, held: boolean): void;
  /** DTLS routes (native/dtls-routes.h): false when `id` is not an open connected socket. */
  dtlsAttach(id: number, clientKey: Buffer, clientIv: Buffer, serverKey: Buffer, serverIv: Buffer, shared: Float64Array): boolean;
  /** Socket `id` answers plain Binding requests in C (native/udp-binding.c) from now on; without `fingerprint`, no longer. */
  bindingAnswers(id: number, fingerprint?: boolean, software?: Buffer): boolean;
  /** How many Binding requests socket `id` answered in C since the last call. */
  bindingsAnswered(id: number): number;
}

/** A datagram of `length` bytes at `offset` in `data`, valid until the handler returns. */
export type ConnectedHandler = (data: Buffer, offset: number, length: number) => void;

/**
 * A connected socket's handlers. The socket is bound into the listener's reuse group before it
 * is connected: in between (two system calls, however fast) the kernel may queue it any client's
 * datagram, which it still reads after connect. Such a datagram goes to `fromStranger` with its
 * real source, never to `fromRemote` as if the connected client had sent it.
 */
interface ConnectedSocket {
  readonly fromRemote: ConnectedHandler;
  readonly fromStranger: UnconnectedHandler;
  readonly port: number;
  readonly family: 4 | 6;
  /** The remote's address as META holds a source: one host-order word for IPv4, four for IPv6. */
  readonly words: Int32Array;
}
export type UnconnectedHandler = (data: Buffer, offset: number, length: number, address: string, port: number) => void;

export interface OpenOptions {
  readonly family: 4 | 6;
  readonly address: string;
  readonly port: number;
  readonly reusePort?: boolean;
  readonly receiveBufferSize?: number;
}

// Per datagram in `meta`, and per queued send in `queue` (native/udp-io.h's META layout).
const ID = 0;
const OFFSET = 1;
const LENGTH = 2;
const FLAGS = 3;
const PORT = 4;
const FAMILY = 5;
const WORD0 = 6;
const HEADER = 3;
const TRUNCATED = 1;
/** Peer IPv4 strings by address number, and back: bounded, so spoofed sources cannot grow them. */
const ADDRESS_CACHE = 4096;

export class NativeUdpIo {
  /** The receive area, then the send area: every datagram handed to a handler is a part of it. */
  readonly slab: Buffer;
  /** The send area is slab[sendAreaStart, slab.length); sendAreaUsed is the next free byte. */
  private readonly sendAreaStart: number;
  private sendAreaUsed: number;
  private readonly meta: Int32Array;
  private readonly queue: Int32Array;
  private readonly stats: Float64Array;
  private readonly routeCounts: Float64Array;
  private readonly stride: number;
  private readonly queueSize: number;
  private queued = 0;
  private inBatch = false;
  private readonly connected: (ConnectedSocket | undefined)[] = [];
  private readonly unconnected: (UnconnectedHandler | undefined)[] = [];
  private readonly ipv4Text = new Map<number, string>();
  private readonly ipv4Number = new Map<string, number>();
  /** What a handler threw: a bug, reported rather than thrown into the event loop. */
  onHandlerError: (error: unknown) => void = () => {};

  constructor(private readonly addon: UdpIoAddon) {
    const shared = addon.start(this.onBatch);
    this.slab = Buffer.from(shared.slab);
    this.meta = new Int32Array(shared.meta);
    this.queue = new Int32Array(shared.queue);
    this.stats = new Float64Array(shared.stats);
    this.routeCounts = new Float64Array(shared.routeCounts);
    this.stride = shared.stride;
    this.queueSize = shared.queueSize;
    this.sendAreaStart = shared.slots * shared.slotBytes;
    this.sendAreaUsed = this.sendAreaStart;
  }

  /** An unconnected socket (a relay socket); throws an Error with `code` (EADDRINUSE, …). */
  openUnconnected(options: OpenOptions, onDatagram: UnconnectedHandler): number {
    const id = this.addon.open(options.family, options.address, options.port, options.reusePort ?? false, options.receiveBufferSize ?? 0);
    this.connected[id] = undefined;
    this.unconnected[id] = onDatagram;
    return id;
  }

  /**
   * A socket bound to `options` and connected to `remote` (a client's own socket): what `remote`
   * sends goes to `fromRemote`; what another source had queued before the connect, to `fromStranger`.
   */
  openConnected(options: OpenOptions, remote: { address: string; port: number }, fromRemote: ConnectedHandler, fromStranger: UnconnectedHandler): number {
    const id = this.addon.open(options.family, options.address, options.port, options.reusePort ?? false, options.receiveBufferSize ?? 0, remote.address, remote.port);
    this.unconnected[id] = undefined;
    this.connected[id] = { fromRemote, fromStranger, port: remote.port, family: options.family, words: addressWords(options.family, remote.address) };
    return id;
  }

  localPort(id: number): number {
    return this.addon.localPort(id);
  }

  close(id: number): void {
    // What this batch queued leaves first: the addon forgets a closed socket's id (and may give it
    // to the next socket opened), so a datagram queued before the close, such as the DTLS alert a
    // failed handshake sends just before its socket closes, would be lost or sent by another.
    if (this.inBatch && this.queued > 0) this.flush();
    this.connected[id] = undefined;
    this.unconnected[id] = undefined;
    this.addon.close(id);
  }

  /** Sends now (the kernel copies); to the connected peer without `port`. Returns 0 or an errno. */
  sendNow(id: number, data: Buffer, offset: number, length: number, port?: number, address?: string): number {
    return port === undefined ? this.addon.send(id, data, offset, length) : this.addon.send(id, data, offset, length, port, address);
  }

  /**
   * Queues `length` bytes of the receive area at `offset`, behind a 4-byte ChannelData header
   * when `header` is not 0, for the sendmmsg after this batch. False when it cannot (not a part
   * of the receive area during a batch, an IPv6 destination): send it now instead.
   */
  queueSend(id: number, data: Buffer, offset: number, length: number, header: number, port = 0, address?: string): boolean {
    if (data !== this.slab || !this.inBatch) return false;
    const ip = address === undefined ? 0 : this.ipv4ToNumber(address);
    if (ip === undefined) return false;
    if (this.queued === this.queueSize) this.flush();
    this.enqueue(id, offset, length, header, address === undefined ? 0 : port, ip);
    return true;
  }

  /**
   * Queues a copy of `length` bytes of `data` from `offset` for the sendmmsg after this batch, in
   * order with what was queued before it. False outside a batch, for an IPv6 destination, or
   * when it is larger than the send area: send it now instead (what was queued has left by then).
   */
  queueCopy(id: number, data: Buffer, offset: number, length: number, port = 0, address?: string): boolean {
    if (!this.inBatch || offset < 0 || length < 0 || offset + length > data.length) return false;
    const ip = address === undefined ? 0 : this.ipv4ToNumber(address);
    if (ip === undefined) return false;
    const at = this.reserveSend(length);
    if (at < 0) return false;
    data.copy(this.slab, at, offset, offset + length);
    this.enqueue(id, at, length, 0, address === undefined ? 0 : port, ip);
    return true;
  }

  /**
   * During a batch: where in `slab` (its send area) `length` bytes to send can be written, then
   * queued with queueWritten() before anything else is queued. -1 outside a batch or when larger
   * than the send area. What was queued before leaves first when the area or the queue is full.
   */
  reserveSend(length: number): number {
    if (!this.inBatch || length < 0) return -1;
    if (this.queued === this.queueSize || this.sendAreaUsed + length > this.slab.length) this.flush();
    if (this.sendAreaUsed + length > this.slab.length) return -1;
    const at = this.sendAreaUsed;
    this.sendAreaUsed += length;
    return at;
  }

  /** Queues the `length` bytes written at `at` (reserveSend's) for the connected peer of socket `id`. */
  queueWritten(id: number, at: number, length: number): void {
    this.enqueue(id, at, length, 0, 0, 0);
  }

  /** `port` 0: to the connected peer; else to IPv4 `ip` (a number), `port`. */
  private enqueue(id: number, offset: number, length: number, header: number, port: number, ip: number): void {
    const at = this.queued * this.stride;
    const queue = this.queue;
    queue[at + ID] = id;
    queue[at + OFFSET] = offset;
    queue[at + LENGTH] = length;
    queue[at + HEADER] = header;
    queue[at + PORT] = port;
    queue[at + FAMILY] = 4;
    queue[at + WORD0] = ip;
    this.queued++;
  }

  /** During a batch: what is queued leaves now, in order, rather than after the batch. */
  sendQueuedNow(): void {
    if (this.inBatch && this.queued > 0) this.flush();
  }

  /** Sends what is queued now; the send area's copies are free again once they have left. */
  private flush(): void {
    this.addon.flush(this.queued);
    this.queued = 0;
    this.sendAreaUsed = this.sendAreaStart;
  }

  /** Counters of the native side (datagrams received, sent, failed sends, truncated, batches, relayed by routes). */
  counters(): { received: number; sent: number; sendErrors: number; truncated: number; batches: number; routed: number; dtlsRouted: number } {
    const s = this.stats;
    return { received: s[0]!, sent: s[1]!, sendErrors: s[2]!, truncated: s[3]!, batches: s[4]!, routed: s[5]!, dtlsRouted: s[6]! };
  }

  /**
   * The channel routes of client socket `id` (routed-channels.ts's ChannelRouter): each relays
   * ChannelData on its channel from that socket through a relay socket to its peer, and the
   * peer's datagrams back, in C, while live by the expiry times given.
   */
  channelRouter(id: number): ChannelRouter {
    const { addon, routeCounts } = this;
    return {
      add: (relayId, channel, peerAddress, peerPort, channelExpiresAt, permissionExpiresAt) =>
        addon.routeAdd(id, '', 0, channel, relayId, peerAddress, peerPort, channelExpiresAt, permissionExpiresAt),
      setExpiry: (handle, channelExpiresAt, permissionExpiresAt) => addon.routeExpiry(handle, channelExpiresAt, permissionExpiresAt),
      counts: (handle) => (addon.routeCounts(handle), routeCounts),
      remove: (handle) => (addon.routeRemove(handle), routeCounts),
    };
  }

  /**
   * Client socket `id` carries a DTLS association: from now on its routes relay that
   * association's records, opened and sealed in C with these epoch-1 keys, and the sequence
   * counter and replay window in `shared` (dtls/shared-state.ts); never plain ChannelData.
   */
  attachDtls(id: number, keys: KeyBlock, shared: Float64Array): boolean {
    return this.addon.dtlsAttach(id, keys.clientKey, keys.clientIv, keys.serverKey, keys.serverIv, shared);
  }

  /** Listening socket `id` as the engine's BindingAnswerer: plain Bindings answered in C, as the engine says. */
  bindingAnswerer(id: number): BindingAnswerer {
    const { addon } = this;
    return {
      answer: (how) => {
        if (!how) addon.bindingAnswers(id);
        else if (how.software) addon.bindingAnswers(id, how.fingerprint, how.software);
        else addon.bindingAnswers(id, how.fingerprint);
      },
      takeAnswered: () => addon.bindingsAnswered(id),
    };
  }

  /** While held, every datagram of client socket `id` goes to its handler (datagram-order.ts). */
  hold(id: number, held: boolean): void {
    this.addon.hold(id, held);
  }

  /**
   * True while a turn's datagrams are handed over: all in one call, so no microtask runs
   * between them (with dgram, each datagram is a callback of its own, microtasks run after it).
   */
  get handingOverBatch(): boolean {
    return this.inBatch;
  }

  /** The number of the batch handed over now (or last): what a handler keeps for one batch only goes when it changes. */
  get batch(): number {
    return this.stats[4]!;
  }

  /** Called by the addon once per loop turn with its datagrams; returns how many sends it queued. */
  private readonly onBatch = (count: number): number => {
    this.inBatch = true;
    this.queued = 0;
    this.sendAreaUsed = this.sendAreaStart;
    const meta = this.meta;
    for (let i = 0; i < count; i++) {
      const at = i * this.stride;
      // A datagram larger than a slot cannot arrive over UDP; were one cut short, it is dropped.
      if ((meta[at + FLAGS]! & TRUNCATED) !== 0) continue;
      const id = meta[at + ID]!;
      try {
        const connected = this.connected[id];
        if (connected) {
          if (this.isFrom(connected, at)) connected.fromRemote(this.slab, meta[at + OFFSET]!, meta[at + LENGTH]!);
          else connected.fromStranger(this.slab, meta[at + OFFSET]!, meta[at + LENGTH]!, this.sourceAddress(at), meta[at + PORT]!);
          continue;
        }
        const unconnected = this.unconnected[id];
        if (unconnected) unconnected(this.slab, meta[at + OFFSET]!, meta[at + LENGTH]!, this.sourceAddress(at), meta[at + PORT]!);
      } catch (error) {
        this.onHandlerError(error);
      }
    }
    this.inBatch = false;
    return this.queued;
  };

  /** Whether the datagram at META index `at` came from the socket's connected remote. */
  private isFrom(socket: ConnectedSocket, at: number): boolean {
    const meta = this.meta;
    if (meta[at + PORT] !== socket.port || meta[at + FAMILY] !== socket.family) return false;
    const words = socket.words;
    for (let i = 0; i < words.length; i++) if (meta[at + WORD0 + i] !== words[i]) return false;
    return true;
  }

  private sourceAddress(at: number): string {
    const meta = this.meta;
    if (meta[at + FAMILY] === 4) {
      const ip = meta[at + WORD0]!;
      let text = this.ipv4Text.get(ip);
      if (text === undefined) {
        text = `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
        if (this.ipv4Text.size >= ADDRESS_CACHE) this.ipv4Text.clear();
        this.ipv4Text.set(ip, text);
        // Its answer goes back to this text: found here, not parsed again (ipv4ToNumber).
        if (this.ipv4Number.size >= ADDRESS_CACHE) this.ipv4Number.clear();
        this.ipv4Number.set(text, ip);
      }
      return text;
    }
    return ipv6Text(meta, at + WORD0);
  }

  private ipv4ToNumber(address: string): number | undefined {
    let ip = this.ipv4Number.get(address);
    if (ip !== undefined) return ip;
    const parts = address.split('.');
    if (parts.length !== 4) return undefined;
    ip = 0;
    for (const part of parts) {
      const byte = Number(part);
      if (!Number.isInteger(byte) || byte < 0 || byte > 255) return undefined;
      ip = (ip << 8) | byte;
    }
    if (this.ipv4Number.size >= ADDRESS_CACHE) this.ipv4Number.clear();
    this.ipv4Number.set(address, ip);
    return ip;
  }
}

/** An address as META holds a source's: IPv4 one host-order word, IPv6 four. */
function addressWords(family: 4 | 6, address: string): Int32Array {
  const bytes = family === 4 ? ipv4ToBytes(address) : ipv6ToBytes(address);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Int32Array.from({ length: bytes.length / 4 }, (_, i) => view.getInt32(4 * i));
}

/** Four host-order words as IPv6 text, as Node writes it (rinfo.address) and the STUN codec decodes it. */
export function ipv6Text(words: Int32Array, at: number): string {
  const bytes = new DataView(new ArrayBuffer(16));
  for (let i = 0; i < 4; i++) bytes.setInt32(4 * i, words[at + i]!);
  return bytesToIpv6(new Uint8Array(bytes.buffer));
}
