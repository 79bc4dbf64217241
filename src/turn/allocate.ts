/** Allocate (RFC 8656 §7.2, RFC 6156 families, RFC 8656 §7.2 EVEN-PORT and RESERVATION-TOKEN). */
import {
  AttributeType,
  TransportProtocol,
  hasAttribute,
  readBytes,
  readEvenPort,
  readFirstByte,
  readUint32,
  type IpFamily,
} from '../stun/index.js';
import { Allocation, type AllocationRelays } from './allocation.js';
import type { Authenticated } from './authenticate.js';
import type { EngineContext } from './engine-context.js';
import { grantedLifetime } from './lifetime.js';
import { tokenSecondsLeft } from './oauth-authenticate.js';
import type { PeerPacketHandler, RelayEndpoint, RelayOpenResult, RelayRequest } from './relay.js';
import { answerAndRemember, errorFor, failureFor, resendIfRetransmitted, send, successFor, type Request } from './respond.js';
import { acceptPeerConnection } from './tcp-relay.js';
import { admit, type Admission, type AdmissionResult } from './admission.js';
import { addTicket, asksForMobility } from './mobility.js';
import { RoutedChannels } from './routed-channels.js';

const familyOfCode = (code: number | undefined): IpFamily | 'bad' | undefined =>
  code === undefined ? undefined : code === 1 ? 4 : code === 2 ? 6 : 'bad';

/**
 * A Promise only when something is awaited (a limited reservation, a relay port to bind, a TCP
 * relay): with no limit and a spare relay socket, the answer goes in the turn the request came in.
 */
export function handleAllocate(ctx: EngineContext, request: Request, auth: Authenticated): Promise<void> | void {
  const { message, session } = request;
  const fail = failureFor(ctx, request, auth.key);

  // 2. One allocation per 5-tuple; the same transaction again is a retransmission. One that
  // arrives while the first is still being served is dropped: the first answer is coming.
  const existing = session.allocation;
  if (existing) {
    if (!resendIfRetransmitted(ctx, request, existing)) fail(437);
    return;
  }
  if (session.allocating) return;
  const mobile = asksForMobility(ctx, request, fail);
  if (mobile === undefined) return;
  // 3-4. UDP relaying, or TCP relaying (RFC 6062) for clients on TCP or TLS.
  const transport = readFirstByte(message, AttributeType.RequestedTransport);
  if (transport === undefined) return fail(400, 'Missing REQUESTED-TRANSPORT');
  if (transport === TransportProtocol.TCP) return handleTcpAllocate(ctx, request, auth, mobile);
  if (transport !== TransportProtocol.UDP || !ctx.config.udpRelay) return fail(442);
  // 5. DONT-FRAGMENT is honoured where the relay sockets send with DF; elsewhere it is an
  // attribute we do not support (RFC 8656 §7.2).
  if (hasAttribute(message, AttributeType.DontFragment) && !ctx.relays.setsDontFragment) {
    return void send(ctx, request, errorFor(ctx, request, 420).addUnknownAttributes([AttributeType.DontFragment]), auth.key);
  }
  const token = readBytes(message, AttributeType.ReservationToken);
  const evenPort = readEvenPort(message, AttributeType.EvenPort);
  const requested = familyOfCode(readFirstByte(message, AttributeType.RequestedAddressFamily));
  const additional = familyOfCode(readFirstByte(message, AttributeType.AdditionalAddressFamily));
  if (token && token.length !== 8) return fail(400, 'RESERVATION-TOKEN is not 8 bytes');
  if (token && (evenPort || additional)) return fail(400, 'RESERVATION-TOKEN with EVEN-PORT or ADDITIONAL-ADDRESS-FAMILY');
  // Before any quota is reserved here: the worker holding the port reserves it.
  if (token && ctx.otherWorkers?.forwardAllocate(session, message.buffer, token)) return;
  if (requested === 'bad') return fail(440);
  if (additional === 'bad' || additional === 4) return fail(400, 'ADDITIONAL-ADDRESS-FAMILY must be IPv6');
  if (additional && (requested || evenPort)) return fail(400, 'ADDITIONAL-ADDRESS-FAMILY with REQUESTED-ADDRESS-FAMILY or EVEN-PORT');

  // RFC 8656 §7.2: IPv4 unless REQUESTED-ADDRESS-FAMILY says otherwise (or the operator does).
  const family: IpFamily = requested ?? defaultFamily(ctx, request);
  if (!ctx.relays.hasFamily(family)) return fail(440);

  const relayRequest: RelayRequest = {
    family,
    preferredAddress: session.local.address,
    evenPort: evenPort !== undefined,
    reserveNext: evenPort?.reserveNext ?? false,
    reservationToken: token,
  };
  return whileAllocating(ctx, request, auth, (admission) => allocate(ctx, request, auth, relayRequest, additional === 6, admission, mobile));
}

/**
 * Runs the asynchronous part of an Allocate (the ledger's answer, then binding relays) with
 * the session marked as allocating, so that a retransmission is dropped rather than reserving
 * twice, and the gate counting it in flight, so that a drain waits for it. Afterwards the
 * lease goes back if no allocation came of it, and an allocation made while the engine
 * closed, or its client session ended, is released at once.
 */
function whileAllocating(ctx: EngineContext, request: Request, auth: Authenticated, work: (admission: Admission) => Promise<void> | void): Promise<void> | void {
  const { session } = request;
  session.setAllocating(true);
  ctx.gate.inFlight++;
  let admission: Admission | undefined;
  const admitted = (result: AdmissionResult): Promise<void> | void => {
    if (!result.ok) return failureFor(ctx, request, auth.key)(486, quotaReason(result.refusal));
    admission = result.admission;
    return work(admission);
  };
  const finish = (): void => {
    ctx.gate.inFlight--;
    session.setAllocating(false);
    const { allocation } = session;
    const endedBy = allocation && ctx.gate.endNow(session);
    if (!allocation) admission?.release();
    else if (endedBy) ctx.release(allocation, endedBy);
  };
  let pending: Promise<void> | void;
  try {
    const result = admit(ctx, request, auth.username, auth.realm);
    pending = result instanceof Promise ? result.then(admitted) : admitted(result);
  } catch (error) {
    finish();
    throw error;
  }
  if (!pending) return void finish();
  return pending.finally(finish);
}

/** `allocation-default-address-family`: ipv4 (the RFC's), ipv6, or keep the family the client reached us over. */
function defaultFamily(ctx: EngineContext, request: Request): IpFamily {
  const choice = ctx.config.defaultAddressFamily;
  if (choice === 'keep') return request.session.local.family;
  return choice === 'ipv6' ? 6 : 4;
}

function quotaReason(refusal: string): string {
  return `Allocation Quota Reached (${refusal})`;
}

/** RFC 6062 §5.1: a TCP relay, for a client that reached us over TCP or TLS. */
async function handleTcpAllocate(ctx: EngineContext, request: Request, auth: Authenticated, mobile: boolean): Promise<void> {
  const { message, session } = request;
  const fail = failureFor(ctx, request, auth.key);
  if (!ctx.tcpRelays || !ctx.config.tcpRelay) return fail(442);
  if (session.transport !== 'tcp' && session.transport !== 'tls') return fail(400, 'TCP relaying needs a TCP or TLS connection');
  for (const type of [AttributeType.EvenPort, AttributeType.ReservationToken, AttributeType.DontFragment, AttributeType.AdditionalAddressFamily]) {
    if (hasAttribute(message, type)) return fail(400, 'Attribute not allowed with a TCP allocation');
  }
  const requested = familyOfCode(readFirstByte(message, AttributeType.RequestedAddressFamily));
  if (requested === 'bad') return fail(440);
  const family: IpFamily = requested ?? defaultFamily(ctx, request);
  if (!ctx.relays.hasFamily(family)) return fail(440);

  const tcpRelays = ctx.tcpRelays;
  await whileAllocating(ctx, request, auth, async (admission) => {
    let allocation: Allocation | undefined;
    const opened = await tcpRelays.open(family, session.local.address, (connection) => {
      if (allocation) acceptPeerConnection(ctx, allocation, connection);
      else connection.close();
    });
    if (!opened.ok) return fail(opened.reason === 'no-address' ? 440 : 508);
    allocation = createAllocation(ctx, request, auth, {}, admission, mobile);
    allocation.tcpRelay = opened.endpoint;
    answerAllocate(ctx, request, auth, allocation, {});
  });
}

/**
 * Steps 6-8 of RFC 8656 §7.2: bind the relay(s), create the allocation, answer. Awaits only a
 * relay socket that is not bound yet.
 */
function allocate(
  ctx: EngineContext,
  request: Request,
  auth: Authenticated,
  relayRequest: RelayRequest,
  dual: boolean,
  admission: Admission,
  mobile: boolean,
): Promise<void> | void {
  const { session } = request;
  // Peer packets may arrive before the allocation exists (binding is asynchronous): drop those.
  let allocation: Allocation | undefined;
  const onPacket: PeerPacketHandler = (data, address, port, offset, length) => {
    if (allocation) ctx.dataPlane.fromPeer(allocation, data, address, port, offset, length);
  };
  const withPrimary = (primary: RelayOpenResult): Promise<void> | void => {
    if (!primary.ok) {
      return void send(ctx, request, errorFor(ctx, request, relayFailureCode(primary), relayFailureReason(primary)), auth.key);
    }
    if (!dual) return void (allocation = answerWithRelays(ctx, request, auth, relayRequest, primary, undefined, admission, mobile));
    const secondary = ctx.relays.hasFamily(6)
      ? ctx.relays.open({ family: 6, preferredAddress: session.local.address, evenPort: false, reserveNext: false }, onPacket)
      : ({ ok: false, reason: 'no-address' } as const);
    const withBoth = (secondary: RelayOpenResult): void => void (allocation = answerWithRelays(ctx, request, auth, relayRequest, primary, secondary, admission, mobile));
    return secondary instanceof Promise ? secondary.then(withBoth) : withBoth(secondary);
  };
  const primary = ctx.relays.open(relayRequest, onPacket);
  return primary instanceof Promise ? primary.then(withPrimary) : withPrimary(primary);
}

/** The allocation over the relay(s) bound, answered. */
function answerWithRelays(
  ctx: EngineContext,
  request: Request,
  auth: Authenticated,
  relayRequest: RelayRequest,
  primary: Extract<RelayOpenResult, { ok: true }>,
  secondary: RelayOpenResult | undefined,
  admission: Admission,
  mobile: boolean,
): Allocation {
  const relays: { ipv4?: RelayEndpoint; ipv6?: RelayEndpoint } = {};
  relays[relayRequest.family === 4 ? 'ipv4' : 'ipv6'] = primary.endpoint;
  if (secondary?.ok) relays.ipv6 = secondary.endpoint;
  const allocation = createAllocation(ctx, request, auth, relays, admission, mobile);
  answerAllocate(ctx, request, auth, allocation, {
    familyRefused: secondary && !secondary.ok ? 6 : undefined,
    reservationToken: primary.reservationToken,
  });
  return allocation;
}

function createAllocation(
  ctx: EngineContext,
  request: Request,
  auth: Authenticated,
  relays: AllocationRelays,
  admission: Admission,
  mobile: boolean,
): Allocation {
  const { session, now: createdAt } = request;
  const { username, realm, key, oauth } = auth;
  const lifetime = grantedLifetime(ctx.config, readUint32(request.message, AttributeType.Lifetime), tokenSecondsLeft(oauth, createdAt));
  const allocation = new Allocation({ session, username, realm, key, relays, createdAt, lifetimeMs: lifetime * 1000, admission, oauth });
  allocation.mobile = mobile;
  // With max-bps each packet is metered by the data plane: none is relayed below it.
  if (!allocation.toPeerLimit && session.routesChannels) allocation.routes = new RoutedChannels(allocation, ctx.counters);
  session.setAllocation(allocation);
  ctx.allocations.add(allocation);
  ctx.expiry.schedule(allocation, allocation.expiresAt);
  ctx.counters.allocationsCreated++;
  return allocation;
}

function answerAllocate(
  ctx: EngineContext,
  request: Request,
  auth: Authenticated,
  allocation: Allocation,
  extra: { familyRefused?: IpFamily; reservationToken?: Buffer },
): void {
  const { session } = request;
  const lifetime = Math.round((allocation.expiresAt - request.now) / 1000);
  const response = successFor(ctx, request);
  for (const relay of allocation.relayAddresses) response.addXorAddress(AttributeType.XorRelayedAddress, relay);
  if (extra.familyRefused) {
    response.add(AttributeType.AddressErrorCode, addressErrorValue(extra.familyRefused, 440, 'Address Family not Supported'));
  }
  response.addUint32(AttributeType.Lifetime, lifetime);
  if (extra.reservationToken) response.add(AttributeType.ReservationToken, extra.reservationToken);
  response.addXorAddress(AttributeType.XorMappedAddress, session.remote);
  addTicket(ctx, response, allocation);
  answerAndRemember(ctx, request, allocation, response);
  // Answered within a batch (nothing was awaited), it would wait for the report and the log line.
  session.sendQueuedNow?.();
  ctx.allocationReports?.set(allocation, lifetime, false);
  const relays = allocation.relayAddresses.map((a) => `${a.address}:${a.port}`).join(' ');
  const kind = allocation.tcpRelay ? 'TCP relay' : 'relay';
  const client = `${session.remote.address}:${session.remote.port}`;
  const server = `${session.local.address}:${session.local.port}`;
  ctx.logger.info(
    `allocation ${allocation.id} created: user "${auth.username}" realm "${auth.realm}" ${session.transport} ${client} -> ${server} ${kind} ${relays} lifetime ${lifetime}s`,
    { event: 'allocation-created', allocation: allocation.id, user: auth.username, realm: auth.realm, transport: session.transport, client, server, relay: relays, lifetime },
  );
}

function relayFailureCode(result: Extract<RelayOpenResult, { ok: false }>): number {
  if (result.reason === 'no-address') return 440;
  if (result.reason === 'bad-token') return 508;
  return 508;
}

function relayFailureReason(result: Extract<RelayOpenResult, { ok: false }>): string | undefined {
  return result.reason === 'bad-token' ? 'Reservation token unknown or expired' : undefined;
}

/** ADDRESS-ERROR-CODE (RFC 8656 §18.12): family, reserved, class, number, reason. */
function addressErrorValue(family: IpFamily, code: number, reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8');
  const value = Buffer.alloc(4 + text.length);
  value[0] = family === 4 ? 1 : 2;
  value[2] = Math.floor(code / 100);
  value[3] = code % 100;
  text.copy(value, 4);
  return value;
}
