/** Binding (RFC 8489 §6.3.1): the client's reflexive address. */
import { AttributeType } from '../stun/index.js';
import { formatTransportAddress } from '../stun/ip.js';
import type { EngineContext } from './engine-context.js';
import { send, successFor, type Request } from './respond.js';

export function answerBinding(ctx: EngineContext, request: Request, key?: Buffer): void {
  ctx.counters.bindingRequests++;
  const { remote, transport } = request.session;
  if (ctx.config.logBinding) ctx.logger.info(`Binding from ${formatTransportAddress(remote)} over ${transport}`);
  const response = successFor(ctx, request);
  // RFC 3489 clients (no magic cookie) only understand MAPPED-ADDRESS.
  if (request.message.hasMagicCookie) response.addXorAddress(AttributeType.XorMappedAddress, request.session.remote);
  else response.addAddress(AttributeType.MappedAddress, request.session.remote);
  send(ctx, request, response, key);
  ctx.counters.bindingResponses++;
}
