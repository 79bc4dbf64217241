/** Binding (RFC 8489 §6.3.1): the client's reflexive address, and RFC 5780's answers (nat-discovery.ts). */
import { AttributeType, type MessageBuilder, type TransportAddress } from '../stun/index.js';
import { formatTransportAddress } from '../stun/ip.js';
import type { EngineContext } from './engine-context.js';
import { PADDING_BYTES, isRefusal, readDiscoveryRequest, routeOf, sameAddress, type AlternateAddresses, type DiscoveryRequest } from './nat-discovery.js';
import { errorFor, send, sendDiscoveryAnswer, successFor, type Request } from './respond.js';

/** RFC 3489's names for RESPONSE-ORIGIN and OTHER-ADDRESS, for clients without the magic cookie. */
const SOURCE_ADDRESS = 0x0004;
const CHANGED_ADDRESS = 0x0005;

export function answerBinding(ctx: EngineContext, request: Request, key?: Buffer): void {
  ctx.counters.bindingRequests++;
  const { remote, local, transport } = request.session;
  if (ctx.config.logBinding) ctx.logger.info(`Binding from ${formatTransportAddress(remote)} over ${transport}`);
  const asked = readDiscoveryRequest(request.message, transport, ctx.alternateAddresses !== undefined);
  if (isRefusal(asked)) return void send(ctx, request, errorFor(ctx, request, asked.code, asked.reason), key);
  const response = successFor(ctx, request);
  // RFC 3489 clients (no magic cookie) only understand MAPPED-ADDRESS.
  if (request.message.hasMagicCookie) response.addXorAddress(AttributeType.XorMappedAddress, remote);
  else response.addAddress(AttributeType.MappedAddress, remote);
  const other = ctx.alternateAddresses?.otherAddress(local);
  if (!ctx.alternateAddresses || !other) {
    // Without RFC 5780 the answer stays minimal: no RESPONSE-ORIGIN, as with coturn's
    // `response-origin-only-with-rfc5780`, which is therefore always in effect (SECURITY.md).
    send(ctx, request, response, key);
  } else if (!sendDiscovered(ctx, request, response, key, asked, ctx.alternateAddresses, other)) {
    return;
  }
  ctx.counters.bindingResponses++;
}

/** An RFC 5780 answer: from the address CHANGE-REQUEST names, to RESPONSE-PORT, padded; false when not sent. */
function sendDiscovered(
  ctx: EngineContext,
  request: Request,
  response: MessageBuilder,
  key: Buffer | undefined,
  asked: DiscoveryRequest,
  alternates: AlternateAddresses,
  other: TransportAddress,
): boolean {
  const { local, remote } = request.session;
  const route = routeOf(asked, local, remote, alternates);
  if (!route) return false;
  addOrigins(response, request.message.hasMagicCookie, route.origin, other);
  if (asked.padding) response.add(AttributeType.Padding, Buffer.alloc(PADDING_BYTES));
  const rerouted = !sameAddress(route.origin, local) || !sameAddress(route.destination, remote);
  if (!rerouted && !asked.padding) {
    send(ctx, request, response, key);
    return true;
  }
  return sendDiscoveryAnswer(ctx, request, response, key, rerouted ? route : undefined);
}

function addOrigins(response: MessageBuilder, modern: boolean, origin: TransportAddress, other: TransportAddress): void {
  response.addAddress(modern ? AttributeType.ResponseOrigin : SOURCE_ADDRESS, origin);
  response.addAddress(modern ? AttributeType.OtherAddress : CHANGED_ADDRESS, other);
}

/**
 * How a listener may answer a plain Binding request below JS (native/udp-binding.c): one with the
 * magic cookie and no attributes but SOFTWARE and FINGERPRINT, over UDP. Its answer is what
 * answerBinding() sends such a request: XOR-MAPPED-ADDRESS after SOFTWARE when configured, then
 * FINGERPRINT when configured or when the request had one. Undefined when such a request must
 * reach answerBinding(), because the answer or what happens around it depends on more: no-stun
 * (dropped), secure-stun (credentials), log-binding (a line each), RFC 5780 (OTHER-ADDRESS).
 */
export interface PlainBindingAnswer {
  readonly software: Buffer | undefined;
  readonly fingerprint: boolean;
}

export function plainBindingAnswer(ctx: Pick<EngineContext, 'config' | 'alternateAddresses'>): PlainBindingAnswer | undefined {
  const { config } = ctx;
  if (config.noStun || config.logBinding || ctx.alternateAddresses !== undefined) return undefined;
  if (config.secureStun && config.authMode === 'long-term') return undefined;
  // As successFor() adds it: none for an empty string.
  return { software: config.software ? Buffer.from(config.software, 'utf8') : undefined, fingerprint: config.fingerprint };
}

/**
 * A listener that can answer plain Binding requests below JS: the engine tells it how (or that it
 * may not) at start and at each reload, and reads in how many it answered when the counters are read.
 */
export interface BindingAnswerer {
  answer(how: PlainBindingAnswer | undefined): void;
  /** How many it answered since the last call. */
  takeAnswered(): number;
}
