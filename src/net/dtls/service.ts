/**
 * DTLS for the whole server: the certificate (reloaded with TLS's), the cookie secret, the
 * caps on unfinished handshakes, counters, and one endpoint per UDP socket that serves DTLS.
 */
import type { RemoteInfo } from 'node:dgram';
import type { TlsOptions as NodeTlsOptions } from 'node:tls';
import type { TurnEngine } from '../../turn/engine.js';
import type { Logger } from '../../log/logger-interface.js';
import { CookieJar } from './cookie.js';
import { DtlsCredentials } from './credentials.js';
import { DtlsEndpoint, type DatagramSocket } from './endpoint.js';
import { HandshakeBudget } from './handshake-budget.js';

export interface DtlsLimits {
  /** Unfinished handshakes, server-wide; a ClientHello beyond them is dropped. */
  readonly maxHandshakes: number;
  /** Unfinished handshakes from one IPv4 address or IPv6 /64; a ClientHello beyond them is dropped. */
  readonly maxHandshakesPerSource: number;
  readonly handshakeTimeoutMs: number;
  /** A session that receives no authentic record for this long ends. */
  readonly idleTimeoutMs: number;
  /** A session that has not allocated within this ends (max-allocate-timeout, as TCP). */
  readonly maxAllocateTimeoutMs: number;
}

export const DEFAULT_DTLS_LIMITS: DtlsLimits = {
  maxHandshakes: 256,
  maxHandshakesPerSource: 16,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 600_000,
  maxAllocateTimeoutMs: 60_000,
};

export class DtlsCounters {
  helloVerifyRequests = 0;
  handshakesStarted = 0;
  handshakesCompleted = 0;
  /** Alerts, timeouts, and clients that went away mid-handshake. */
  handshakesFailed = 0;
  /** Valid-cookie ClientHellos dropped because a cap was reached (either one). */
  refusedHandshakes = 0;
  /** Of those, the ones dropped because their source already had its share. */
  refusedPerSource = 0;
  /** ClientHellos offering only DTLS 1.0. */
  refusedVersion = 0;
  /** Malformed datagrams, and records from 5-tuples without a session that are not ClientHellos. */
  droppedRecords = 0;
}

/** How often deadlines are checked; timeouts are this much late at most. */
const SWEEP_MS = 1000;
const CAP_WARNING_INTERVAL_MS = 10_000;

export class DtlsService {
  readonly cookies: CookieJar;
  readonly counters = new DtlsCounters();
  readonly handshakes: HandshakeBudget;
  private current: DtlsCredentials;
  private readonly endpoints: DtlsEndpoint[] = [];
  private readonly timer: NodeJS.Timeout;
  private lastCapWarning = -Infinity;

  /** Throws when the certificate and key cannot serve DTLS. */
  constructor(
    tlsOptions: NodeTlsOptions,
    readonly engine: TurnEngine,
    readonly logger: Logger,
    readonly limits: DtlsLimits = DEFAULT_DTLS_LIMITS,
    readonly clock: () => number = Date.now,
    /** Relay workers share it, so a cookie one issued verifies on another. */
    cookieSecret?: Buffer,
  ) {
    this.current = DtlsCredentials.fromTlsOptions(tlsOptions);
    this.cookies = new CookieJar(clock, cookieSecret);
    this.handshakes = new HandshakeBudget(limits);
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  get credentials(): DtlsCredentials {
    return this.current;
  }

  /** Serves DTLS on this socket too; returns the handler for its DTLS datagrams. */
  attach(udp: DatagramSocket): (data: Buffer, rinfo: RemoteInfo) => void {
    const endpoint = new DtlsEndpoint(udp, this);
    this.endpoints.push(endpoint);
    return (data, rinfo) => endpoint.handleDatagram(data, rinfo);
  }

  /** New handshakes use the new pair; open sessions keep their keys. Throws when unusable. */
  setCredentials(tlsOptions: NodeTlsOptions): void {
    this.current = DtlsCredentials.fromTlsOptions(tlsOptions);
  }

  /** Unfinished handshakes, server-wide. */
  get pendingHandshakes(): number {
    return this.handshakes.pending;
  }

  /** Sessions, handshaking or open, on every socket. */
  get sessions(): number {
    let n = 0;
    for (const endpoint of this.endpoints) n += endpoint.size;
    return n;
  }

  warnCapReached(): void {
    const now = this.clock();
    if (now - this.lastCapWarning < CAP_WARNING_INTERVAL_MS) return;
    this.lastCapWarning = now;
    this.logger.warn(`DTLS: ${this.limits.maxHandshakes} handshakes unfinished; new ones are dropped`);
  }

  sweep(): void {
    const now = this.clock();
    for (const endpoint of this.endpoints) endpoint.sweep(now);
  }

  close(): void {
    clearInterval(this.timer);
    for (const endpoint of this.endpoints) endpoint.close();
  }
}
