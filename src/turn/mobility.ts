/**
 * RFC 8016 mobility (coturn's `mobility`): a client that asks for it in its Allocate (an empty
 * MOBILITY-TICKET) gets a ticket in the Allocate and Refresh answers; a Refresh carrying that
 * ticket from a new 5-tuple, authenticated as the same user, moves the allocation there, with
 * its relayed addresses, permissions and channels. The old 5-tuple is closed (a TCP, TLS or
 * DTLS connection ends; a UDP client's own socket goes), and the ticket is spent: the answer
 * carries the next one. A mobile allocation outlives its connection until it moves or expires,
 * as in coturn, since a moving client may drop its old connection first.
 */
import { AttributeType, hasAttribute, readBytes, type MessageBuilder } from '../stun/index.js';
import type { Allocation } from './allocation.js';
import type { Authenticated } from './authenticate.js';
import type { EngineContext } from './engine-context.js';
import { failureFor, type Fail, type Request } from './respond.js';

/** coturn's codes and phrases, which its client prints. */
const MOBILITY_FORBIDDEN = 405;

export const carriesTicket = (request: Request): boolean => hasAttribute(request.message, AttributeType.MobilityTicket);

/**
 * An Allocate's MOBILITY-TICKET: true when it asks for mobility (an empty one, and mobility
 * is on), false when it has none; undefined when it has been refused with an error.
 */
export function asksForMobility(ctx: EngineContext, request: Request, fail: Fail): boolean | undefined {
  const ticket = readBytes(request.message, AttributeType.MobilityTicket);
  if (ticket === undefined) return false;
  if (!ctx.config.mobility) return void fail(MOBILITY_FORBIDDEN, 'Mobility Forbidden');
  if (ticket.length !== 0) return void fail(400, 'Wrong Mobility Field');
  return true;
}

/** A mobile allocation's answers carry its current ticket. */
export function addTicket(ctx: EngineContext, response: MessageBuilder, allocation: Allocation): void {
  if (!allocation.mobile) return;
  const { id, ticketGeneration: generation, username, realm } = allocation;
  response.add(AttributeType.MobilityTicket, ctx.mobilityTickets.issue({ id, generation, username, realm }));
}

/**
 * A Refresh with a MOBILITY-TICKET on the allocation's own 5-tuple: allowed when the ticket is
 * this allocation's (any generation: a client may send its last one again); false when refused.
 */
export function ticketFitsOwnAllocation(ctx: EngineContext, request: Request, allocation: Allocation): boolean {
  const ticket = readBytes(request.message, AttributeType.MobilityTicket);
  if (ticket === undefined) return true;
  const fail = failureFor(ctx, request, allocation.key);
  if (!ctx.config.mobility) return void fail(MOBILITY_FORBIDDEN, 'Mobility forbidden'), false;
  if (ctx.mobilityTickets.open(ticket, allocation.username, allocation.realm)?.id !== allocation.id) {
    return void fail(400, 'Mobility ticket cannot be used for a stable, already established allocation'), false;
  }
  return true;
}

/**
 * A Refresh with a MOBILITY-TICKET from a 5-tuple without an allocation: the move itself.
 * Returns the allocation moved here, for the Refresh to be served; undefined when answered
 * already (refused) or handed to the worker that holds it.
 */
export function moveAllocation(ctx: EngineContext, request: Request, auth: Authenticated): Allocation | undefined {
  const { session, message } = request;
  const fail = failureFor(ctx, request, auth.key);
  const refuse = (code: number, reason?: string): undefined => void fail(code, reason);
  if (!ctx.config.mobility) return refuse(MOBILITY_FORBIDDEN, 'Mobility forbidden');
  const ticket = readBytes(message, AttributeType.MobilityTicket)!;
  const claim = ctx.mobilityTickets.open(ticket, auth.username, auth.realm);
  // Forged, garbled, or issued to another user: nothing here is this user's to move.
  if (!claim) return refuse(400, 'Wrong mobile ticket');
  const where = ctx.otherWorkers?.forwardMove(session, message.buffer, claim.id) ?? 'here';
  if (where === 'forwarded') return undefined;
  if (where === 'elsewhere') return refuse(437, 'Allocation is held by another relay thread');
  const allocation = findAllocation(ctx, claim.id);
  // Ended, or already moved with this ticket (a spent ticket is no key).
  if (!allocation || allocation.ticketGeneration !== claim.generation || !allocation.mobile) return refuse(437, 'Allocation not found');
  if (allocation.username !== auth.username || allocation.realm !== auth.realm) return refuse(441);
  if (session.allocating) return undefined;
  if (allocation.tcpRelay && session.transport !== 'tcp' && session.transport !== 'tls') {
    return refuse(400, 'A TCP allocation needs a TCP or TLS connection');
  }
  const from = allocation.session;
  allocation.moveTo(session);
  session.setAllocation(allocation);
  // The old 5-tuple is done: a connection or DTLS association closes, a UDP client's socket goes.
  if (from.allocation === allocation) from.setAllocation(undefined);
  const address = (a: { address: string; port: number }): string => `${a.address}:${a.port}`;
  ctx.logger.info(
    `allocation ${allocation.id} moved: user "${allocation.username}" ${from.transport} ${address(from.remote)} -> ${session.transport} ${address(session.remote)}`,
    { event: 'allocation-moved', allocation: allocation.id, user: allocation.username, from: address(from.remote), to: address(session.remote), transport: session.transport },
  );
  return allocation;
}

/**
 * The client connection of a mobile allocation ended: it stays until it moves or expires
 * (what peers send meanwhile goes nowhere). False when it is not mobile, and must end with it.
 */
export function keepForMove(ctx: EngineContext, allocation: Allocation, reason: string): boolean {
  if (!allocation.mobile || !ctx.config.mobility || allocation.closed) return false;
  ctx.logger.verbose(`allocation ${allocation.id}: client left (${reason}); kept for its MOBILITY-TICKET until it moves or expires`);
  return true;
}

function findAllocation(ctx: EngineContext, id: number): Allocation | undefined {
  // A move is rare, and only a ticket this server signed gets this far: a scan costs little.
  for (const allocation of ctx.allocations) if (allocation.id === id && !allocation.closed) return allocation;
  return undefined;
}
