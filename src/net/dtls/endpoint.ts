/**
 * DTLS on one UDP socket: records are routed by 5-tuple to their session. A stranger gets
 * state only by sending a ClientHello with a valid cookie while the caps on unfinished
 * handshakes (server-wide and per source) leave room; without one it gets a stateless
 * HelloVerifyRequest, and any other record from it is dropped.
 */
import type { RemoteInfo } from 'node:dgram';
import type { DatagramSender } from '../listener-socket.js';
import type { SendArea } from '../udp-session-socket.js';
import type { DtlsDatagramHandler } from '../udp-listener.js';
import type { TransportAddress } from '../../stun/ip.js';
import type { TurnEngine } from '../../turn/engine.js';
import type { Logger } from '../../log/logger-interface.js';
import { ServerHandshake } from './handshake.js';
import { HandshakeType, handshakeMessage, helloVerifyRequestBody, parseClientHello, parseHandshakeFragments, type ClientHello } from './handshake-codec.js';
import { AlertDescription, AlertLevel, ContentType, DTLS_1_2, DtlsAlert, alertBody, isSingleApplicationRecordAt, parseRecords, plainRecord, type DtlsRecord } from './record.js';
import type { DtlsService } from './service.js';
import { DtlsSession } from './session.js';
import { SessionTable, type SessionSlot } from './session-table.js';
import type { KeyBlock } from './suites.js';
import { nativeRecordGcm } from './gcm.js';
import type { ChannelRouter } from '../../turn/routed-channels.js';

/** An association's own socket: connected to the client, on the listener's addr:port. */
export interface OwnSocket {
  send(data: Buffer): void;
  close(): void;
  /** Native I/O: where a record can be sealed in place, to leave with this turn's batch. */
  readonly sendArea?: SendArea;
  /** Native I/O: its channel routes (routed-channels.ts), live once attachDtls said yes. */
  readonly channelRouter?: ChannelRouter;
  /** Native I/O: C opens and seals its routed channels' records from now on (native/dtls-routes.c). */
  attachDtls?(keys: KeyBlock, shared: Float64Array): boolean;
}

export interface DatagramSocket {
  readonly socket: DatagramSender;
  readonly local: TransportAddress;
  /**
   * An association's own socket (udp-listener.ts); undefined where the listener serves all.
   * With native I/O its datagrams go to `onDtls` where they lie, else to the listener's handler.
   */
  openDtlsSocket?(remote: TransportAddress, onDtls?: DtlsDatagramHandler): OwnSocket | undefined;
  /** Relay workers: an association needs its own socket from its ClientHello on (pinned). */
  readonly pinsClients?: boolean;
  /** Native I/O with channel routes: an association's own socket may relay its channels in C. */
  readonly routesChannels?: boolean;
}

interface HelloRecord {
  readonly hello: ClientHello;
  readonly body: Buffer;
  readonly messageSeq: number;
  readonly record: DtlsRecord;
}

/** An unfragmented ClientHello in the datagram's first record (epoch 0), else undefined. */
function firstClientHello(records: readonly DtlsRecord[]): HelloRecord | undefined {
  const record = records[0];
  if (!record || record.type !== ContentType.Handshake || record.epoch !== 0) return undefined;
  const fragment = parseHandshakeFragments(record.fragment)?.[0];
  if (!fragment || fragment.type !== HandshakeType.ClientHello || fragment.offset !== 0 || fragment.body.length !== fragment.length) return undefined;
  const hello = parseClientHello(fragment.body);
  return hello && { hello, body: fragment.body, messageSeq: fragment.messageSeq, record };
}

export class DtlsEndpoint {
  private readonly table = new SessionTable();

  constructor(
    private readonly udp: DatagramSocket,
    private readonly service: DtlsService,
  ) {}

  get local(): TransportAddress {
    return this.udp.local;
  }

  get engine(): TurnEngine {
    return this.service.engine;
  }

  get logger(): Logger {
    return this.service.logger;
  }

  /**
   * Whether its sessions' channels may be relayed in C: native UDP I/O with routes, and native
   * AES-GCM (TURNPIKE_DTLS_AEAD=node:crypto keeps every record in JS, as before).
   */
  get routesChannels(): boolean {
    return this.udp.routesChannels === true && 'gcm' in nativeRecordGcm();
  }

  /** Sessions on this socket, handshaking or open. */
  get size(): number {
    return this.table.size;
  }

  handleDatagram(data: Buffer, rinfo: RemoteInfo): void {
    const { counters } = this.service;
    const records = parseRecords(data);
    if (!records) {
      counters.droppedRecords++;
      return;
    }
    const now = this.service.clock();
    const slot = this.table.get(rinfo.address, rinfo.port);
    const hello = firstClientHello(records);
    if (slot && !hello) return this.deliver(slot, records, now);
    if (!hello) {
      counters.droppedRecords++; // not a ClientHello, from a 5-tuple with no session
      return;
    }
    // The same ClientHello again: flight 4 was lost (or the network repeated the datagram).
    const same = slot && [slot.current, slot.successor].find((s) => s?.helloRandom.equals(hello.hello.random));
    if (same) return same.resendFlight(now);
    this.onClientHello(hello, records, rinfo, slot, now);
  }

  /**
   * A datagram from an association's own socket, `length` bytes of `data` from `offset` (the
   * native receive area, valid until this returns). The steady state, one application data
   * record for an open session with no successor, is opened in place and its ChannelData
   * relayed from there; anything else is copied and handled as any datagram.
   */
  receiveAt(data: Buffer, offset: number, length: number, remote: TransportAddress): void {
    if (isSingleApplicationRecordAt(data, offset, length)) {
      const slot = this.table.get(remote.address, remote.port);
      if (slot && !slot.successor && slot.current.takeApplicationRecordAt(data, offset, length, this.service.clock())) return;
    }
    const copy = Buffer.allocUnsafe(length);
    data.copy(copy, 0, offset, offset + length);
    this.handleDatagram(copy, { address: remote.address, family: remote.family === 6 ? 'IPv6' : 'IPv4', port: remote.port, size: length });
  }

  /**
   * While a successor's handshake runs beside an open session, each record goes to the open
   * session if it authenticates there, else to the successor.
   */
  private deliver(slot: SessionSlot, records: readonly DtlsRecord[], now: number): void {
    if (!slot.successor) return slot.current.receive(records, now);
    for (const record of records) {
      if (!slot.current.take(record, now)) slot.successor?.take(record, now);
    }
  }

  private onClientHello(h: HelloRecord, records: readonly DtlsRecord[], rinfo: RemoteInfo, slot: SessionSlot | undefined, now: number): void {
    const { counters, cookies } = this.service;
    const remote: TransportAddress = { family: rinfo.family === 'IPv6' ? 6 : 4, address: rinfo.address, port: rinfo.port };
    // DTLS versions count down: a client whose highest is 1.0 offers a larger number.
    if (h.hello.version > DTLS_1_2) {
      counters.refusedVersion++;
      this.sendDatagram(plainRecord(ContentType.Alert, 0, h.record.sequence, alertBody(AlertLevel.Fatal, AlertDescription.ProtocolVersion)), remote);
      return;
    }
    if (!cookies.isValid(rinfo.address, rinfo.port, h.hello)) {
      counters.helloVerifyRequests++;
      // RFC 6347 §4.2.1: the same record sequence number as the ClientHello; message_seq 0.
      const hvr = handshakeMessage(HandshakeType.HelloVerifyRequest, 0, helloVerifyRequestBody(cookies.cookieFor(rinfo.address, rinfo.port, h.hello)));
      this.sendDatagram(plainRecord(ContentType.Handshake, 0, h.record.sequence, hvr), remote);
      return;
    }
    // A valid cookie from a 5-tuple that has a session: the client started over. An unfinished
    // handshake has nothing worth keeping; an open session stays until the new one verifies.
    slot?.successor?.close('the client started another handshake');
    if (slot && !slot.current.isOpen) slot.current.close('the client started a new handshake');
    if (!this.admitHandshake(remote)) return;
    let handshake: ServerHandshake;
    try {
      handshake = new ServerHandshake(this.service.credentials, h.hello, h.body, h.messageSeq, h.record.sequence);
    } catch (error) {
      this.service.handshakes.release(remote);
      if (!(error instanceof DtlsAlert)) throw error;
      counters.handshakesFailed++;
      this.logger.debug(`DTLS ${rinfo.address}:${rinfo.port}: ${error.message}`);
      this.sendDatagram(plainRecord(ContentType.Alert, 0, h.record.sequence, alertBody(AlertLevel.Fatal, error.description)), remote);
      return;
    }
    counters.handshakesStarted++;
    // With relay workers, its own socket from here on: the client's next datagrams then stay on
    // this worker, which holds its keys, whatever the port's reuse group does.
    const session = new DtlsSession(this, remote, handshake, now, this.udp.pinsClients ? this.openOwnSocket(remote) : undefined);
    const open = this.table.get(remote.address, remote.port);
    if (open) this.table.addSuccessor(open, session);
    else this.table.add(session);
    if (records.length > 1) session.receive(records.slice(1), now);
  }

  /** Takes a handshake slot for `remote`; false (and counted) when a cap says no. */
  private admitHandshake(remote: TransportAddress): boolean {
    const { counters } = this.service;
    const admission = this.service.handshakes.admit(remote);
    if (admission === 'admitted') return true;
    counters.refusedHandshakes++;
    if (admission === 'server-full') this.service.warnCapReached();
    else counters.refusedPerSource++;
    return false;
  }

  /** Called once by a session that closes. */
  forget(session: DtlsSession, reason: string): void {
    if (!this.table.remove(session)) return;
    if (session.pendingHandshake) {
      this.service.handshakes.release(session.remote);
      this.service.counters.handshakesFailed++;
    }
    this.logger.verbose(`DTLS ${session.remote.address}:${session.remote.port}: closed: ${reason}`);
  }

  /** A handshake's Finished verified: a session it succeeds ends now, and frees its allocation. */
  onEstablished(session: DtlsSession, suite: string): void {
    this.service.handshakes.release(session.remote);
    this.service.counters.handshakesCompleted++;
    this.logger.verbose(`DTLS ${session.remote.address}:${session.remote.port}: session established (${suite})`);
    const slot = this.table.get(session.remote.address, session.remote.port);
    // No close_notify: the client at this 5-tuple now holds the new keys and could not read it.
    if (slot?.successor === session) slot.current.close('replaced by a new handshake from the same 5-tuple', false);
  }

  /** A socket of the association's own: its records leave with a connected send (cheaper). */
  openOwnSocket(remote: TransportAddress): OwnSocket | undefined {
    return this.udp.openDtlsSocket?.(remote, (data, offset, length) => this.receiveAt(data, offset, length, remote));
  }

  sendDatagram(data: Buffer, remote: TransportAddress): void {
    try {
      this.udp.socket.send(data, remote.port, remote.address);
    } catch {
      // The socket is closing (server shutdown): nothing left to tell the client.
    }
  }

  /** Ends handshakes past their deadline and sessions idle past theirs. */
  sweep(now: number): void {
    const { handshakeTimeoutMs, idleTimeoutMs, maxAllocateTimeoutMs } = this.service.limits;
    for (const session of this.table.all()) {
      if (session.pendingHandshake) {
        if (now - session.startedAt >= handshakeTimeoutMs) session.close('handshake timeout', false);
      } else if (now - session.lastReceivedAt >= idleTimeoutMs) {
        session.close('idle timeout');
      } else if (!session.allocation && !session.allocating && now - session.startedAt >= maxAllocateTimeoutMs) {
        session.close('no allocation within max-allocate-timeout');
      }
    }
  }

  close(): void {
    for (const session of this.table.all()) session.close('server stopping');
  }
}
