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
import type { ClientSession } from './session.js';

/** Clients whose last redirect is remembered, for their retransmissions. */
const RECENT_REDIRECTS = 1024;

export class AllocationGate {
  draining = false;
  /** The engine has closed: an allocation that completes now is released at once. */
  closed = false;
  /** Allocates past the gate still waiting for their lease or relays: a drain waits for them too. */
  inFlight = 0;
  /** Client sessions that ended, and why: an Allocate that completes for one is released at once. */
  private readonly ended = new WeakMap<ClientSession, string>();

  /** Recent redirects by client transport address: a retransmission is sent where its first was. */
  private readonly recentRedirects = new Map<string, { readonly transaction: Buffer; readonly alternate: TransportAddress }>();

  /**
   * @param turns where the alternate list's turn is counted: one cell every relay worker shares
   * (a SharedArrayBuffer), so the list is taken in turn by the server, not once per worker.
   */
  constructor(private readonly turns: Uint32Array<ArrayBufferLike> = new Uint32Array(1)) {}

  sessionEnded(session: ClientSession, reason: string): void {
    this.ended.set(session, reason);
  }

  /** Why an allocation just made for this session must end at once, if it must. */
  endNow(session: ClientSession): string | undefined {
    return this.closed ? 'server stopping' : this.ended.get(session);
  }

  /**
   * The next alternate for this client's transport and family, if there is one. A list that
   * names the address the client reached redirects nobody (coturn's rule, so that one list
   * can serve a whole cluster without sending a client back to where it is) until this node
   * drains: then it sends newcomers to the others on that list.
   */
  alternateFor(ctx: EngineContext, request: Request): TransportAddress | undefined {
    const { session } = request;
    const secure = session.transport === 'tls' || session.transport === 'dtls';
    const list = secure ? ctx.config.tlsAlternateServers : ctx.config.alternateServers;
    // No list (the usual case): no closure or array made for every Allocate.
    if (list.length === 0) return undefined;
    const isHere = (a: TransportAddress) => a.address === session.local.address && a.port === session.local.port;
    if (!this.draining && list.some(isHere)) return undefined;
    const usable = list.filter((a) => a.family === session.remote.family && !isHere(a));
    if (usable.length === 0) return undefined;
    // A withheld answer (the reply budget, SECURITY.md) is retransmitted: it must not take another turn.
    const client = `${session.remote.address}:${session.remote.port}`;
    const recent = this.recentRedirects.get(client);
    if (recent?.transaction.equals(request.message.transactionId)) return recent.alternate;
    const alternate = usable[Atomics.add(this.turns, 0, 1) % usable.length]!;
    this.recentRedirects.delete(client);
    this.recentRedirects.set(client, { transaction: request.message.transactionId, alternate });
    // Oldest first: bounded, so that a flood of sources cannot grow it.
    if (this.recentRedirects.size > RECENT_REDIRECTS) this.recentRedirects.delete(this.recentRedirects.keys().next().value!);
    return alternate;
  }
}

/** Answers (signed with `key` when the request was) an Allocate that may not be served here; false when it may. */
export function refusedAllocation(ctx: EngineContext, request: Request, key: Buffer | undefined): boolean {
  const alternate = ctx.gate.alternateFor(ctx, request);
  if (alternate) {
    send(ctx, request, errorFor(ctx, request, 300).addAddress(AttributeType.AlternateServer, alternate), key);
    return true;
  }
  if (ctx.gate.draining) {
    send(ctx, request, errorFor(ctx, request, 403, 'Server is draining: no new allocations'), key);
    return true;
  }
  return false;
}
