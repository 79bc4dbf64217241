/**
 * One DTLS association with a client 5-tuple: its handshake, then STUN/TURN messages and
 * ChannelData as application data, one per record, exactly as over plain UDP. Its allocation
 * ends with it (close_notify, a fatal alert, a timeout), and it ends with its allocation.
 */
import type { TransportAddress } from '../../stun/ip.js';
import type { Allocation } from '../../turn/allocation.js';
import type { ClientSession } from '../../turn/session.js';
import type { ChannelRouter } from '../../turn/routed-channels.js';
import type { Established, ServerHandshake } from './handshake.js';
import { HandshakeType, parseHandshakeFragments } from './handshake-codec.js';
import { CHANNEL_DATA_HEADER, looksLikeChannelDataAt } from '../../stun/channel-data.js';
import { AlertDescription, AlertLevel, ContentType, DtlsAlert, alertBody, recordEpochAt, recordSequenceAt, type DtlsRecord } from './record.js';
import { RECORD_PLAINTEXT, SEAL_OVERHEAD } from './protection.js';
import { SharedRecordState } from './shared-state.js';
import type { DtlsEndpoint, OwnSocket } from './endpoint.js';

/** A repeated client flight is answered at most this often, so it cannot be used to amplify. */
const RESEND_INTERVAL_MS = 250;

export class DtlsSession implements ClientSession {
  readonly transport = 'dtls' as const;
  allocation: Allocation | undefined;
  allocating = false;
  /** Times (ms) the sweep reads: when the handshake began, when JS last took an authenticated record. */
  readonly startedAt: number;
  private receivedAt: number;
  private handshake: ServerHandshake | undefined;
  private established: Established | undefined;
  /** Epoch 1's sequence counter and replay window, shared with native routes once attached. */
  private readonly records = new SharedRecordState();
  private readonly window = this.records.window;
  /** Its routed channels' records are opened and sealed in C (native/dtls-routes.c). */
  private routedInC = false;
  private lastResendAt = 0;
  private closed = false;
  /** The ClientHello's random: the same hello again is a duplicate, not a new handshake. */
  readonly helloRandom: Buffer;

  constructor(
    private readonly endpoint: DtlsEndpoint,
    readonly remote: TransportAddress,
    handshake: ServerHandshake,
    now: number,
    /** Its own socket from the start (relay workers pin it); else it gets one with its allocation. */
    private ownSocket: OwnSocket | undefined = undefined,
  ) {
    this.handshake = handshake;
    this.helloRandom = handshake.hello.random;
    this.startedAt = now;
    this.receivedAt = now;
    this.sendDatagrams(handshake.flight);
  }

  get local(): TransportAddress {
    return this.endpoint.local;
  }

  get isOpen(): boolean {
    return this.established !== undefined && !this.closed;
  }

  get pendingHandshake(): ServerHandshake | undefined {
    return this.handshake;
  }

  /** When a record of the client last authenticated, in JS or in C. */
  get lastReceivedAt(): number {
    return Math.max(this.receivedAt, this.records.lastReceivedInC);
  }

  /** Its allocation's channels may be routed below JS (routed-channels.ts) once C holds its keys. */
  get routesChannels(): boolean {
    return this.endpoint.routesChannels;
  }

  get channelRouter(): ChannelRouter | undefined {
    return this.routedInC ? this.ownSocket?.channelRouter : undefined;
  }

  setAllocation(allocation: Allocation | undefined): void {
    const had = this.allocation;
    this.allocation = allocation;
    // The allocation expired or was refreshed to 0: the association has done its job.
    if (!allocation && had) this.close('allocation ended');
    // Its records go on leaving through the listener until then (handshakes alone need none):
    // opened after the Allocate's answer is sent, as for UDP clients.
    else if (allocation && !this.ownSocket) setImmediate(() => this.openOwnSocket());
  }

  private openOwnSocket(): void {
    if (this.allocation && !this.ownSocket && !this.closed) this.ownSocket = this.endpoint.openOwnSocket(this.remote);
    this.routeInC();
  }

  /**
   * Once open and on a native socket of its own: the keys and the shared state go to C, which
   * then relays its routed channels' records (and nothing else) without JS.
   */
  private routeInC(): void {
    const socket = this.ownSocket;
    if (this.routedInC || this.closed || !this.established || !socket?.attachDtls || !this.endpoint.routesChannels) return;
    this.routedInC = socket.attachDtls(this.established.protection.keys, this.records.array);
  }

  setAllocating(allocating: boolean): void {
    this.allocating = allocating;
  }

  send(data: Buffer): void {
    this.sendApplicationData([data]);
  }

  sendRelayed(data: Buffer): boolean {
    return this.sendApplicationData([data]);
  }

  sendChannelData(header: Buffer, payload: Buffer): boolean {
    return this.sendApplicationData([header, payload]);
  }

  sendChannelDataFrom(channel: number, data: Buffer, offset: number, length: number): boolean {
    const established = this.established;
    const sequence = established && !this.closed ? this.takeSequence() : undefined;
    if (sequence === undefined) return false;
    // With native I/O the record is sealed straight into the send area: no Buffer, no copy.
    const area = this.ownSocket?.sendArea;
    const size = SEAL_OVERHEAD + CHANNEL_DATA_HEADER + length;
    const at = area ? area.reserve(size) : -1;
    if (at < 0) {
      this.transmit(established!.protection.sealChannelData(1, sequence, channel, data, offset, length));
    } else {
      established!.protection.sealChannelDataAt(area!.buffer, at, 1, sequence, channel, data, offset, length);
      area!.sendWritten(at, size);
    }
    return true;
  }

  /** Records from this 5-tuple, in datagram order. */
  receive(records: readonly DtlsRecord[], now: number): void {
    for (const record of records) this.take(record, now);
  }

  /**
   * One record from this 5-tuple. False when it is not this session's: the session is closed,
   * or open and the record does not authenticate under its keys (a successor's, perhaps).
   */
  take(record: DtlsRecord, now: number): boolean {
    if (this.closed) return false;
    try {
      if (!this.handshake) return this.afterHandshake(record, now);
      this.duringHandshake(record, now);
    } catch (error) {
      if (!(error instanceof DtlsAlert)) throw error;
      this.fail(error);
    }
    return true;
  }

  /**
   * One application data record, the whole datagram data[offset, +length) (endpoint.receiveAt),
   * opened where it lies: its ChannelData is relayed from there, anything else copied first (a
   * request is answered after this turn, when the area holds other datagrams). False when it
   * is not for this path (no open session, another epoch): take() it parsed, as any record.
   */
  takeApplicationRecordAt(data: Buffer, offset: number, length: number, now: number): boolean {
    const established = this.established;
    if (!established || this.closed || recordEpochAt(data, offset) !== 1) return false;
    const sequence = recordSequenceAt(data, offset);
    if (this.window.isReplay(sequence)) return true;
    const plaintext = established.protection.openAt(data, offset, length);
    if (plaintext < 0) return true; // RFC 6347 §4.1.2.7: invalid records are discarded silently
    this.window.mark(sequence);
    this.receivedAt = now;
    const at = offset + RECORD_PLAINTEXT;
    const { engine } = this.endpoint;
    if (looksLikeChannelDataAt(data, at, plaintext)) engine.handleChannelData(this, data, at, plaintext);
    else engine.handlePacket(this, Buffer.from(data.subarray(at, at + plaintext)));
    return true;
  }

  /** A ClientHello repeated during the handshake: flight 4 was lost, so it goes again. */
  resendFlight(now: number): void {
    if (this.handshake && now - this.lastResendAt >= RESEND_INTERVAL_MS) {
      this.lastResendAt = now;
      this.sendDatagrams(this.handshake.flight);
    }
  }

  /** Ends the association: says close_notify when it was open, and frees its allocation. */
  close(reason: string, alert = true): void {
    if (this.closed) return;
    if (alert && this.established) this.sendAlert(AlertLevel.Warning, AlertDescription.CloseNotify);
    this.closed = true;
    this.ownSocket?.close();
    this.endpoint.forget(this, reason);
    this.endpoint.engine.sessionClosed(this, `DTLS session ended: ${reason}`);
  }

  private duringHandshake(record: DtlsRecord, now: number): void {
    if (record.type === ContentType.Alert && record.epoch === 0) {
      // An unauthenticated alert could be forged, but a handshake has nothing worth keeping.
      if (record.fragment[0] === AlertLevel.Fatal) this.close(`client sent alert ${record.fragment[1]}`, false);
      return;
    }
    const done = this.handshake!.onRecord(record);
    if (!done) return;
    this.handshake = undefined;
    this.established = done;
    this.records.nextWriteSequence = done.nextWriteSequence;
    this.window.mark(done.clientFinishedSequence);
    this.receivedAt = now;
    this.endpoint.onEstablished(this, done.suite.name);
    this.transmit(done.finalFlight);
    this.routeInC();
  }

  /** True when the record authenticated under this session's keys. */
  private afterHandshake(record: DtlsRecord, now: number): boolean {
    const established = this.established!;
    // Epoch 0 is anyone's once the session is open: its alerts and handshake records get no
    // answer. A client whose copy of our final flight was lost repeats its own, and the
    // Finished in it (epoch 1, below) is what proves the repeat is real.
    if (record.epoch !== 1 || this.window.isReplay(record.sequence)) return false;
    const plain = established.protection.open(record);
    if (!plain) return false; // RFC 6347 §4.1.2.7: invalid records are discarded silently
    this.window.mark(record.sequence);
    this.receivedAt = now;
    switch (record.type) {
      case ContentType.ApplicationData:
        this.endpoint.engine.handlePacket(this, plain);
        break;
      case ContentType.Alert:
        if (plain[1] === AlertDescription.CloseNotify) this.close('close_notify');
        else if (plain[0] === AlertLevel.Fatal) this.close(`client sent fatal alert ${plain[1]}`, false);
        break;
      case ContentType.Handshake:
        if (parseHandshakeFragments(plain)?.some((f) => f.type === HandshakeType.Finished)) this.resendFinal(now);
        break;
      default:
        break;
    }
    return true;
  }

  private resendFinal(now: number): void {
    if (now - this.lastResendAt < RESEND_INTERVAL_MS) return;
    this.lastResendAt = now;
    this.transmit(this.established!.finalFlight);
  }

  private fail(alert: DtlsAlert): void {
    this.endpoint.logger.debug(`DTLS ${this.remote.address}:${this.remote.port}: ${alert.message}`);
    this.sendAlert(AlertLevel.Fatal, alert.description);
    this.close(alert.message, false);
  }

  private sendAlert(level: number, description: number): void {
    const body = alertBody(level, description);
    if (!this.established) return this.transmit(this.handshake!.alertRecord(body));
    // With every sequence number used, the alert cannot be numbered: the session just ends.
    const sequence = this.records.takeWriteSequence();
    if (sequence !== undefined) this.transmit(this.established.protection.seal(ContentType.Alert, 1, sequence, [body]));
  }

  private sendApplicationData(parts: readonly Buffer[]): boolean {
    const sequence = this.established && !this.closed ? this.takeSequence() : undefined;
    if (sequence === undefined) return false;
    this.transmit(this.established!.protection.seal(ContentType.ApplicationData, 1, sequence, parts));
    return true;
  }

  /**
   * The next sequence number for application data; when none is left the session ends (RFC 6347
   * §4.1: never wrap; this server does not renegotiate), and the client may handshake again.
   */
  private takeSequence(): number | undefined {
    const sequence = this.records.takeWriteSequence();
    if (sequence === undefined) this.close('its sequence numbers are used up', false);
    return sequence;
  }

  private sendDatagrams(datagrams: readonly Buffer[]): void {
    for (const datagram of datagrams) this.transmit(datagram);
  }

  private transmit(datagram: Buffer): void {
    if (this.ownSocket) this.ownSocket.send(datagram);
    else this.endpoint.sendDatagram(datagram, this.remote);
  }
}
