/**
 * The TURN protocol engine. It is handed "these bytes arrived on this client session" and
 * answers through the session and the relay endpoints it was given; it never touches a
 * socket itself and reads time from an injected clock.
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { TransportAddress } from '../stun/ip.js';
import { looksLikeChannelData } from '../stun/channel-data.js';
import { Method, StunClass, StunDecodeError, decodeMessage, type StunMessage } from '../stun/index.js';
import type { Allocation } from './allocation.js';
import { handleAllocate } from './allocate.js';
import { AllocationGate, refusedAllocation } from './allocation-gate.js';
import { authenticate, type Authenticated } from './authenticate.js';
import { answerBinding, plainBindingAnswer, type BindingAnswerer } from './binding.js';
import { handleChannelBind } from './channel-bind.js';
import { EngineCounters } from './counters.js';
import { handleCreatePermission } from './create-permission.js';
import { DataPlane } from './data-plane.js';
import type { EngineConfig, EngineContext, EngineServices } from './engine-context.js';
import { ExpiryQueue } from './expiry-queue.js';
import { unknownRequiredAttributes } from './oauth-authenticate.js';
import { MobilityTickets } from './mobility-ticket.js';
import { carriesTicket, keepForMove, moveAllocation } from './mobility.js';
import { handleRefresh } from './refresh.js';
import { PendingConnections, bindForOtherWorker, handleConnect, handleConnectionBind } from './tcp-relay.js';
import { errorFor, resendIfRetransmitted, send, type Request } from './respond.js';
import type { ClientSession } from './session.js';

/** What a reload may replace while allocations go on. */
export interface EngineReload {
  readonly config: EngineConfig;
  readonly credentials: EngineServices['credentials'];
  readonly peerPolicy: EngineServices['peerPolicy'];
  readonly nonces: EngineServices['nonces'];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class TurnEngine {
  private readonly ownCounters = new EngineCounters();
  private readonly ctx: Mutable<EngineContext>;
  /** Listeners that answer plain Bindings below JS (answerBindingsBelow). */
  private readonly bindingAnswerers = new Set<BindingAnswerer>();

  constructor(config: EngineConfig, services: EngineServices) {
    const allocations = new Set<Allocation>();
    this.ctx = {
      ...services,
      config,
      counters: this.ownCounters,
      expiry: new ExpiryQueue<Allocation>(),
      allocations,
      dataPlane: new DataPlane(this.ownCounters, services.clock, services.peerPolicy),
      pendingConnections: new PendingConnections(services.otherWorkers?.index),
      gate: new AllocationGate(services.alternateTurns),
      release: (allocation, reason) => this.release(allocation, reason),
      mobilityTickets: services.mobilityTickets ?? new MobilityTickets(randomBytes(32)),
    };
  }

  /** The counters, with what was relayed and answered below JS until now (routed-channels.ts, answerBindingsBelow). */
  get counters(): EngineCounters {
    this.collectBelowJs();
    return this.ownCounters;
  }

  /** The live allocations, their traffic counters brought up to now as the counters'. */
  get allocations(): ReadonlySet<Allocation> {
    this.collectBelowJs();
    return this.ctx.allocations;
  }

  /** How many allocations are live: no traffic is read (drain checks, worker counts). */
  get allocationCount(): number {
    return this.ctx.allocations.size;
  }

  /** The counters and the live allocations, brought up to now in one pass (a scrape, a stats answer). */
  traffic(): { readonly counters: EngineCounters; readonly allocations: ReadonlySet<Allocation> } {
    this.collectBelowJs();
    return { counters: this.ownCounters, allocations: this.ctx.allocations };
  }

  private collectBelowJs(): void {
    for (const allocation of this.ctx.allocations) allocation.routes?.collect();
    for (const answerer of this.bindingAnswerers) this.collectBindings(answerer);
  }

  /** Each Binding answered below JS counts as answerBinding() counts one it answers. */
  private collectBindings(answerer: BindingAnswerer): void {
    const answered = answerer.takeAnswered();
    this.ownCounters.bindingRequests += answered;
    this.ownCounters.bindingResponses += answered;
    this.ownCounters.udpNativeBindings += answered;
  }

  /**
   * A listener that can answer plain Binding requests below JS (binding.ts): told how now and at
   * each reload; what it answered joins the counters when they are read. Returns its end (the
   * last of its count read, and it answers no more).
   */
  answerBindingsBelow(answerer: BindingAnswerer): () => void {
    this.bindingAnswerers.add(answerer);
    answerer.answer(plainBindingAnswer(this.ctx));
    return () => {
      if (!this.bindingAnswerers.delete(answerer)) return;
      answerer.answer(undefined);
      this.collectBindings(answerer);
    };
  }

  get dataPlane(): DataPlane {
    return this.ctx.dataPlane;
  }

  get config(): EngineConfig {
    return this.ctx.config;
  }

  /** True once draining: new allocations are redirected or refused, existing ones served. */
  get draining(): boolean {
    return this.ctx.gate.draining;
  }

  drain(): void {
    this.ctx.gate.draining = true;
  }

  /** Allocates still binding their relays: they end in an allocation or an error soon. */
  get allocationsInFlight(): number {
    return this.ctx.gate.inFlight;
  }

  /**
   * Puts a reloaded configuration in force. Allocations keep what they were given (lifetime,
   * bandwidth); permissions and channels the new peer rules refuse are revoked at once.
   */
  reconfigure(reload: EngineReload): void {
    const { ctx } = this;
    ctx.config = reload.config;
    ctx.credentials = reload.credentials;
    ctx.nonces = reload.nonces;
    ctx.peerPolicy = reload.peerPolicy;
    ctx.dataPlane.setPeerPolicy(reload.peerPolicy);
    for (const answerer of this.bindingAnswerers) answerer.answer(plainBindingAnswer(ctx));
    let revoked = 0;
    const refused = (address: string, port?: number): boolean => !reload.peerPolicy.check(address, port).allowed;
    for (const allocation of ctx.allocations) revoked += allocation.revokePeers(refused);
    if (revoked > 0) ctx.logger.info(`reload: ${revoked} permissions, channels or peer connections revoked by the new peer rules`);
  }

  /**
   * Bytes from a client: one datagram, or one frame cut from a stream. Never throws. For a
   * request, resolves once it is answered (a stream holds what follows a ConnectionBind till then).
   */
  handlePacket(session: ClientSession, data: Buffer): Promise<void> | undefined {
    if (looksLikeChannelData(data)) return this.handleChannelData(session, data);
    let message: StunMessage;
    try {
      message = decodeMessage(data);
    } catch (error) {
      this.ownCounters.drop('Malformed', data.length);
      if (!(error instanceof StunDecodeError)) this.ctx.logger.error(`decoder failed: ${String(error)}`);
      return;
    }
    return this.handleMessage(session, message);
  }

  /** A ChannelData message (`size` bytes of `data` from `offset`, at least its header): relayed when the session has an allocation. */
  handleChannelData(session: ClientSession, data: Buffer, offset = 0, size = data.length): undefined {
    const allocation = session.allocation;
    if (allocation) this.ctx.dataPlane.fromClientChannelData(allocation, data, offset, size);
    else this.ownCounters.drop('NoAllocation', size);
    return undefined;
  }

  private handleMessage(session: ClientSession, message: StunMessage): Promise<void> | undefined {
    if (message.cls === StunClass.Request) {
      if (session.transport === 'udp') this.ctx.replyBudget?.earn(session.remote.address, message.buffer.length);
      return this.handleRequest({ session, message, now: this.ctx.clock() });
    }
    if (message.cls === StunClass.Indication && message.method === Method.Send) {
      const allocation = session.allocation;
      if (!allocation) {
        this.ownCounters.drop('NoAllocation', message.buffer.length);
        return;
      }
      try {
        this.ctx.dataPlane.fromClientSend(allocation, message);
      } catch {
        this.ownCounters.drop('Malformed', message.buffer.length);
      }
      return;
    }
    // Responses and other indications are not for a server.
    this.ownCounters.drop('Malformed', message.buffer.length);
  }

  /**
   * A request answered within this call (a 401, a Binding, most errors) makes no Promise: its
   * answer is queued before the handler returns, with no microtask on its way (issue 14).
   */
  private handleRequest(request: Request): Promise<void> | undefined {
    let answered: Promise<void> | undefined;
    try {
      answered = this.dispatch(request);
    } catch (error) {
      this.failed(request, error);
      return undefined;
    }
    return answered?.catch((error: unknown) => this.failed(request, error));
  }

  private failed(request: Request, error: unknown): void {
    const { ctx } = this;
    if (error instanceof StunDecodeError) {
      send(ctx, request, errorFor(ctx, request, 400, error.message), request.session.allocation?.key);
    } else {
      ctx.logger.error(`request ${request.message.method} failed: ${error instanceof Error ? error.stack : String(error)}`);
      send(ctx, request, errorFor(ctx, request, 500));
    }
  }

  /** Answers what needs no credentials, then what authenticate() lets through (afterAuthentication). */
  private dispatch(request: Request): Promise<void> | undefined {
    const { ctx } = this;
    const { message, session } = request;
    const { config } = ctx;
    const unknown = unknownRequiredAttributes(message, config);
    if (unknown.length > 0) {
      send(ctx, request, errorFor(ctx, request, 420).addUnknownAttributes(unknown));
      return;
    }
    if (message.method === Method.Binding) {
      if (config.noStun) return;
      // `no-stun-backward-compatibility`: an RFC 3489 request (no magic cookie) is not answered.
      if (!message.hasMagicCookie && !config.stunBackwardCompatibility) return void this.ownCounters.drop('Malformed', message.buffer.length);
      if (!config.secureStun || config.authMode !== 'long-term') return void answerBinding(ctx, request);
      return afterAuthentication(authenticate(ctx, request), (auth) => answerBinding(ctx, request, auth.key));
    }
    if (!message.hasMagicCookie) return; // RFC 3489 clients only get Binding answers
    if (config.authMode === 'stun-only') {
      send(ctx, request, errorFor(ctx, request, 403, 'TURN is not enabled on this server'));
      return;
    }
    // Redirects and drain come before authentication (as in coturn), but a request that is
    // signed gets its refusal signed too: a client drops unsigned errors to signed requests.
    const newAllocation = message.method === Method.Allocate && !session.allocation && !session.allocating;
    const signed = message.messageIntegrity !== undefined || message.messageIntegritySha256 !== undefined;
    if (newAllocation && !signed && refusedAllocation(ctx, request, undefined)) return;
    return afterAuthentication(authenticate(ctx, request), (auth) => {
      if (newAllocation && signed && refusedAllocation(ctx, request, auth.key)) return;
      return this.authenticated(request, auth);
    });
  }

  /** A request whose credentials were checked: to its method's handler. */
  private authenticated(request: Request, auth: Authenticated): Promise<void> | void {
    const { ctx } = this;
    const { message, session } = request;
    if (message.method === Method.Allocate) return handleAllocate(ctx, request, auth);
    // Joined a turn later: a stream session holds what follows the ConnectionBind only once
    // handlePacket has returned its Promise (stream-session.ts), and the join takes those bytes.
    if (message.method === Method.ConnectionBind) return Promise.resolve().then(() => handleConnectionBind(ctx, request, auth));

    const allocation = session.allocation;
    if ((!allocation || allocation.closed) && message.method === Method.Refresh && carriesTicket(request)) {
      const moved = moveAllocation(ctx, request, auth);
      if (moved) handleRefresh(ctx, request, moved);
      return;
    }
    if (!allocation || allocation.closed) {
      send(ctx, request, errorFor(ctx, request, 437), auth.key);
      return;
    }
    // An OAuth client's new token may name another kid (coturn: a new key for the session).
    if (auth.oauth && allocation.oauth) allocation.renewOAuth(auth.username, auth.key, auth.oauth);
    else if (allocation.username !== auth.username) {
      send(ctx, request, errorFor(ctx, request, 441), auth.key);
      return;
    }
    if (resendIfRetransmitted(ctx, request, allocation)) return;
    switch (message.method) {
      case Method.Refresh:
        return handleRefresh(ctx, request, allocation);
      case Method.CreatePermission:
        return handleCreatePermission(ctx, request, allocation);
      case Method.ChannelBind:
        return handleChannelBind(ctx, request, allocation);
      case Method.Connect:
        return handleConnect(ctx, request, allocation);
      default:
        send(ctx, request, errorFor(ctx, request, 400, 'Unsupported method'), auth.key);
    }
  }

  /** Expires allocations and forgets stale permissions and channels; call about once a second. */
  tick(): void {
    const now = this.ctx.clock();
    this.ctx.pendingConnections.expire(now);
    this.ctx.expiry.drain(now, (allocation) => {
      if (allocation.closed) return;
      if (allocation.expiresAt <= now) return this.release(allocation, 'expired');
      this.ctx.expiry.schedule(allocation, allocation.prune(now));
    });
  }

  release(allocation: Allocation, reason: string): void {
    if (allocation.closed) return;
    const { session } = allocation;
    const client = `${session.remote.address}:${session.remote.port}`;
    const server = `${session.local.address}:${session.local.port}`;
    const relay = allocation.relayAddresses.map((a) => `${a.address}:${a.port}`).join(' ');
    allocation.close();
    allocation.admission.release();
    this.ctx.allocations.delete(allocation);
    if (session.allocation === allocation) session.setAllocation(undefined);
    this.ownCounters.allocationsReleased++;
    const durationMs = this.ctx.clock() - allocation.createdAt;
    this.ctx.logger.info(
      `allocation ${allocation.id} ended (${reason}): user "${allocation.username}" realm "${allocation.realm}" ${session.transport} ` +
        `${client} -> ${server} relay ${relay} after ${Math.round(durationMs / 1000)}s, ` +
        `from client ${allocation.packetsFromClient} pkts/${allocation.bytesFromClient} B, ` +
        `to client ${allocation.packetsToClient} pkts/${allocation.bytesToClient} B`,
      {
        event: 'allocation-ended', allocation: allocation.id, reason, user: allocation.username, realm: allocation.realm,
        transport: session.transport, client, server, relay, durationMs,
        packetsFromClient: allocation.packetsFromClient, bytesFromClient: allocation.bytesFromClient,
        packetsToClient: allocation.packetsToClient, bytesToClient: allocation.bytesToClient,
      },
    );
    this.ctx.allocationReports?.deleted(allocation);
    this.ctx.onAllocationEnded?.(allocation);
  }

  /**
   * A network session (a TCP or TLS connection, a DTLS association) ended: its allocation
   * ends with it, also one whose Allocate is still being served.
   */
  sessionClosed(session: ClientSession, reason: string): void {
    this.ctx.gate.sessionEnded(session, reason);
    const { allocation } = session;
    if (allocation && !keepForMove(this.ctx, allocation, reason)) this.release(allocation, reason);
  }

  /** Relay workers: a ConnectionBind another worker received for this engine's CONNECTION-ID (tcp-relay.ts). */
  bindForOtherWorker(connectionId: number, username: string, client: Duplex): { code: number; peer?: TransportAddress } {
    return bindForOtherWorker(this.ctx, connectionId, username, client);
  }

  /** Input a network session dropped as malformed without handing it over (a bad stream frame). */
  malformed(bytes: number): void {
    this.ownCounters.drop('Malformed', bytes);
  }

  /** Ends every allocation (server shutdown); one still being made is ended when it is. */
  close(): void {
    this.ctx.gate.closed = true;
    for (const allocation of [...this.ctx.allocations]) this.release(allocation, 'server stopping');
  }
}

/**
 * Runs `next` on the credentials authenticate() accepted, at once when it had them at once; a
 * refused request was answered by authenticate(). A Promise only when something was awaited.
 */
function afterAuthentication(
  auth: Authenticated | undefined | Promise<Authenticated | undefined>,
  next: (auth: Authenticated) => Promise<void> | void,
): Promise<void> | undefined {
  if (auth instanceof Promise) return auth.then((accepted) => (accepted ? next(accepted) : undefined));
  if (!auth) return undefined;
  return next(auth) ?? undefined;
}

