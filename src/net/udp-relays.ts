/**
 * UDP relay sockets for allocations: which relay IP, which port, binding, EVEN-PORT pairs
 * and RESERVATION-TOKENs (held ports expire after 30 s, RFC 8656 §7.2).
 *
 * From the start, two sockets on random ports of each relay IP's range are kept bound ahead of
 * the next plain Allocates (no EVEN-PORT), which take one at once: creating and binding a
 * socket is the largest step of an Allocate (0.1 ms warm, 0.25 ms on a server that has served
 * few, measured on Node 24), and this moves it after the answer. Two, because a call's two
 * peers allocate at once: with one, the second found none (issue 14). The spares count as free
 * ports; a request the range cannot serve otherwise gets their ports back.
 */
import { randomBytes } from 'node:crypto';
import type { IpFamily, TransportAddress } from '../stun/ip.js';
import { ipFamily } from '../stun/ip.js';
import type { Logger } from '../log/logger-interface.js';
import type { PeerPacketHandler, RelayEndpoint, RelayOpenResult, RelayProvider, RelayRequest } from '../turn/relay.js';
import { kernelSetsDontFragment } from './dont-fragment.js';
import { nativeUdpIo } from './native-udp/addon.js';
import { PortPool, type RelayRangeOptions } from './port-pool.js';
import { bindRelaySocket, type RelaySocket } from './relay-socket.js';

const RESERVATION_MS = 30_000;
/** Sockets kept bound ahead per relay IP: both peers of a call find one (bench:setup: 8 of 60 found none with one). */
const SPARES = 2;
const BIND_ATTEMPTS = 16;
/** A port another process holds is retried after this long. */
const FOREIGN_PORT_RETRY_MS = 60_000;

/** Every relay address is used, round robin within its family. */
export interface UdpRelayOptions extends RelayRangeOptions {
  readonly receiveBufferSize?: number;
  /** Whether what the relay sockets send carries DF; default: what this kernel does (dont-fragment.ts). */
  readonly setsDontFragment?: boolean;
  /** With relay workers: how a reserved port another worker holds is claimed (workers/reservation-exchange.ts). */
  readonly foreignReservations?: ForeignReservations;
}

/**
 * A RESERVATION-TOKEN another relay worker issued, redeemed by a client whose connection
 * stays here (TCP, TLS, DTLS): that worker closes its reserved socket and lends the port.
 */
export interface ForeignReservations {
  /** The reserved address the token's worker gave up for this worker to bind; undefined: none. */
  claim(token: Buffer): Promise<TransportAddress | undefined>;
  /** The lent port is closed again: its worker may hand it out. */
  giveBack(token: Buffer, address: string, port: number): void;
}

interface Reservation {
  readonly socket: RelaySocket;
  readonly address: string;
  readonly port: number;
  readonly timer: NodeJS.Timeout;
}

export class UdpRelays implements RelayProvider {
  private readonly pools = new Map<string, PortPool>();
  private readonly byFamily = new Map<IpFamily, string[]>();
  private readonly roundRobin = new Map<IpFamily, number>();
  private readonly reservations = new Map<string, Reservation>();
  /** Per relay IP, the sockets bound ahead of its next plain Allocates. */
  private readonly spares = new Map<string, { readonly socket: RelaySocket; readonly port: number }[]>();
  /** Per relay IP, spares being bound. */
  private readonly sparesBinding = new Map<string, number>();
  private closed = false;
  readonly sockets = new Set<RelaySocket>();
  /** Native batched I/O when this thread has it (native-udp/), else dgram. */
  private readonly io = nativeUdpIo();
  readonly setsDontFragment: boolean;

  constructor(
    private readonly options: UdpRelayOptions,
    private readonly logger: Logger,
  ) {
    this.setsDontFragment = options.setsDontFragment ?? kernelSetsDontFragment();
    for (const ip of options.relayIps) {
      const family = ipFamily(ip);
      if (!family) throw new RangeError(`relay-ip ${ip} is not an IP address`);
      this.pools.set(ip, new PortPool(options.minPort, options.maxPort, Math.random, options.slice));
      this.byFamily.set(family, [...(this.byFamily.get(family) ?? []), ip]);
      this.spares.set(ip, []);
      this.bindSpareLater(ip);
    }
  }

  hasFamily(family: IpFamily): boolean {
    return (this.byFamily.get(family)?.length ?? 0) > 0;
  }

  /** Ports in use and in total, over all relay addresses (for metrics); the spares are free ones. */
  portUsage(): { inUse: number; total: number } {
    let inUse = 0;
    for (const spares of this.spares.values()) inUse -= spares.length;
    let total = 0;
    for (const pool of this.pools.values()) {
      inUse += pool.inUse;
      total += pool.size;
    }
    return { inUse, total };
  }

  /** A spare bound already is handed over at once (the usual case): no await before the Allocate's answer. */
  open(request: RelayRequest, onPacket: PeerPacketHandler): RelayOpenResult | Promise<RelayOpenResult> {
    if (request.reservationToken) return this.claimReservation(request.reservationToken, onPacket);
    const ip = this.chooseIp(request);
    if (!ip) return { ok: false, reason: 'no-address' };
    const plain = !request.evenPort && !request.reserveNext;
    if (plain) {
      const spare = this.spares.get(ip)!.pop();
      this.bindSpareLater(ip);
      if (spare) return { ok: true, endpoint: this.endpoint(spare.socket, ip, spare.port, onPacket) };
    }
    return this.bindNew(request, ip, onPacket);
  }

  private async bindNew(request: RelayRequest, ip: string, onPacket: PeerPacketHandler): Promise<RelayOpenResult> {
    const pool = this.pools.get(ip)!;
    for (let attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
      const options = { even: request.evenPort, withNext: request.reserveNext };
      const port = this.takePort(ip, pool, options);
      if (port === undefined) return { ok: false, reason: 'exhausted' };
      const socket = await this.bind(ip, port);
      if (!socket) {
        this.skipForeignPort(pool, port, request.reserveNext);
        continue;
      }
      let reservationToken: Buffer | undefined;
      if (request.reserveNext) {
        const next = await this.bind(ip, port + 1);
        if (!next) {
          this.sockets.delete(socket); // its port goes back through skipForeignPort, not closeSocket
          socket.close();
          this.skipForeignPort(pool, port, true);
          continue;
        }
        reservationToken = this.reserve(next, ip, port + 1);
      }
      return { ok: true, endpoint: this.endpoint(socket, ip, port, onPacket), reservationToken };
    }
    return { ok: false, reason: 'exhausted' };
  }

  /** Closes every relay socket and reservation (server shutdown). */
  close(): void {
    this.closed = true;
    for (const spares of this.spares.values()) spares.length = 0;
    for (const reservation of this.reservations.values()) clearTimeout(reservation.timer);
    this.reservations.clear();
    for (const socket of this.sockets) socket.close();
    this.sockets.clear();
  }

  /**
   * Binds spares for `ip` up to SPARES once the Allocate that took (or would have taken) one has
   * been answered: setImmediate runs after the I/O callback that answers it.
   */
  private bindSpareLater(ip: string): void {
    if (this.closed) return;
    const binding = this.sparesBinding.get(ip) ?? 0;
    const missing = SPARES - this.spares.get(ip)!.length - binding;
    if (missing <= 0) return;
    this.sparesBinding.set(ip, binding + missing);
    for (let i = 0; i < missing; i++) setImmediate(() => void this.bindSpare(ip));
  }

  private async bindSpare(ip: string): Promise<void> {
    const pool = this.pools.get(ip)!;
    const port = this.closed ? undefined : pool.take();
    const socket = port === undefined ? undefined : await this.bind(ip, port);
    this.sparesBinding.set(ip, this.sparesBinding.get(ip)! - 1);
    if (port === undefined) return;
    if (!socket) return this.skipForeignPort(pool, port, false);
    const spares = this.spares.get(ip)!;
    if (this.closed || spares.length >= SPARES) return this.closeSocket(socket, ip, port);
    spares.push({ socket, port });
  }

  /** A port of the pool for `options`, giving back the spares' ports one by one while none is free. */
  private takePort(ip: string, pool: PortPool, options: { even: boolean; withNext: boolean }): number | undefined {
    let port = pool.take(options);
    while (port === undefined && this.dropSpare(ip)) port = pool.take(options);
    return port;
  }

  /** Closes a spare of `ip`, its port free again; false when there was none. */
  private dropSpare(ip: string): boolean {
    const spare = this.spares.get(ip)!.pop();
    if (!spare) return false;
    this.closeSocket(spare.socket, ip, spare.port);
    return true;
  }

  private chooseIp(request: RelayRequest): string | undefined {
    const candidates = this.byFamily.get(request.family);
    if (!candidates?.length) return undefined;
    if (request.preferredAddress && candidates.includes(request.preferredAddress)) return request.preferredAddress;
    const next = this.roundRobin.get(request.family) ?? 0;
    this.roundRobin.set(request.family, next + 1);
    return candidates[next % candidates.length];
  }

  private skipForeignPort(pool: PortPool, port: number, withNext: boolean): void {
    // Someone else holds it: keep it out of the pool for a while rather than retry at once.
    if (withNext) pool.release(port + 1);
    setTimeout(() => pool.release(port), FOREIGN_PORT_RETRY_MS).unref();
  }

  private async bind(ip: string, port: number): Promise<RelaySocket | undefined> {
    const socket = await bindRelaySocket(this.io, ip, port, {
      receiveBufferSize: this.options.receiveBufferSize,
      onError: (error) => this.logger.debug(`relay socket ${ip}:${port}: ${error.message}`),
    });
    if (socket) this.sockets.add(socket);
    return socket;
  }

  private reserve(socket: RelaySocket, address: string, port: number): Buffer {
    const token = randomBytes(8);
    // A relay worker's tokens start with its number, so another worker can tell it cannot redeem one.
    if (this.options.slice) token[0] = this.options.slice.index;
    const key = token.toString('hex');
    const timer = setTimeout(() => {
      this.reservations.delete(key);
      this.closeSocket(socket, address, port);
    }, RESERVATION_MS);
    timer.unref();
    this.reservations.set(key, { socket, address, port, timer });
    return token;
  }

  private async claimReservation(token: Buffer, onPacket: PeerPacketHandler): Promise<RelayOpenResult> {
    const reservation = this.takeReservation(token);
    if (reservation) return { ok: true, endpoint: this.endpoint(reservation.socket, reservation.address, reservation.port, onPacket) };
    const foreign = this.options.foreignReservations;
    if (!foreign || !this.isForeignToken(token)) return { ok: false, reason: 'bad-token' };
    const lent = await foreign.claim(token);
    if (!lent) return { ok: false, reason: 'bad-token' };
    const socket = await this.bind(lent.address, lent.port);
    const giveBack = (): void => foreign.giveBack(token, lent.address, lent.port);
    if (!socket) {
      giveBack();
      return { ok: false, reason: 'bad-token' };
    }
    return { ok: true, endpoint: this.endpoint(socket, lent.address, lent.port, onPacket, giveBack) };
  }

  /**
   * Another relay worker redeems a token this one issued: the reserved socket is closed here so
   * that worker can bind the port. The port stays taken in this worker's pool until takeBack.
   */
  async surrender(token: Buffer): Promise<TransportAddress | undefined> {
    const reservation = this.takeReservation(token);
    if (!reservation) return undefined;
    this.sockets.delete(reservation.socket);
    await new Promise<void>((resolve) => reservation.socket.close(() => resolve()));
    return { family: ipFamily(reservation.address)!, address: reservation.address, port: reservation.port };
  }

  /** A port lent by surrender() is closed again by the worker that used it. */
  takeBack(address: string, port: number): void {
    this.pools.get(address)?.release(port);
  }

  private takeReservation(token: Buffer): Reservation | undefined {
    const key = token.toString('hex');
    const reservation = this.reservations.get(key);
    if (!reservation) return undefined;
    this.reservations.delete(key);
    clearTimeout(reservation.timer);
    return reservation;
  }

  /** A token of another relay worker (its number is the first byte, see reserve()). */
  private isForeignToken(token: Buffer): boolean {
    const slice = this.options.slice;
    return slice !== undefined && token.length === 8 && token[0]! < slice.count && token[0] !== slice.index;
  }

  /** `giveBack`: for a port another worker lent, what closing does instead of freeing it here. */
  private endpoint(socket: RelaySocket, address: string, port: number, onPacket: PeerPacketHandler, giveBack?: () => void): RelayEndpoint {
    const family = ipFamily(address)!;
    const local: TransportAddress = { family, address, port };
    const external = this.options.externalIps.get(address) ?? this.options.externalIps.get('');
    const advertised = external && ipFamily(external) === family ? { family, address: external, port } : local;
    socket.onDatagram((data, peerAddress, peerPort, offset, length) => {
      try {
        onPacket(data, peerAddress, peerPort, offset, length);
      } catch (error) {
        this.logger.error(`relay ${address}:${port}: dropped a peer packet: ${String(error)}`);
      }
    });
    let closed = false;
    return {
      local,
      advertised,
      get nativeId() {
        return socket.nativeId;
      },
      send: (data, offset, length, peerPort, peerAddress) => socket.send(data, offset, length, peerPort, peerAddress),
      close: () => {
        if (closed) return;
        closed = true;
        if (!giveBack) return this.closeSocket(socket, address, port);
        this.sockets.delete(socket);
        socket.close();
        giveBack();
      },
    };
  }

  private closeSocket(socket: RelaySocket, address: string, port: number): void {
    this.sockets.delete(socket);
    socket.close();
    this.pools.get(address)?.release(port);
  }
}
