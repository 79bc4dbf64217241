/**
 * Whether a new allocation may be made here: coturn's `alternate-server` (every Allocate is
 * sent elsewhere with 300 Try Alternate, the list rotated, only addresses of the client's
 * family) and Turnpike's drain (no new allocations; 300 where an alternate exists, else 403).
 * Both are decided before authentication, as in coturn, so a redirected client costs no
 * credential lookup.
 */
import { AttributeType } from '../stun/index.js';
import type { TransportAddress } from '../stun/ip.js';
import type { EngineContext } from './engine-context.js';
import { errorFor, send, type Request } from './respond.js';

export class AllocationGate {
  draining = false;
  private turn = 0;

  /** The next alternate for this client's transport and family, if there is one. */
  alternateFor(ctx: EngineContext, request: Request): TransportAddress | undefined {
    const { session } = request;
    const secure = session.transport === 'tls' || session.transport === 'dtls';
    const list = secure ? ctx.config.tlsAlternateServers : ctx.config.alternateServers;
    const usable = list.filter((a) => a.family === session.remote.family);
    if (usable.length === 0) return undefined;
    return usable[this.turn++ % usable.length];
  }
}

/** Answers an Allocate that may not be served here; false when it may. */
export function refusedAllocation(ctx: EngineContext, request: Request): boolean {
  const alternate = ctx.gate.alternateFor(ctx, request);
  if (alternate) {
    send(ctx, request, errorFor(ctx, request, 300).addAddress(AttributeType.AlternateServer, alternate));
    return true;
  }
  if (ctx.gate.draining) {
    send(ctx, request, errorFor(ctx, request, 403, 'Server is draining: no new allocations'));
    return true;
  }
  return false;
}
