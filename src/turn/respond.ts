/** Building and sending the answer to a request, with the integrity and fingerprint rules. */
import { AttributeType, MessageBuilder, Method, StunClass, type SealOptions, type StunMessage } from '../stun/index.js';
import type { Allocation } from './allocation.js';
import type { EngineContext } from './engine-context.js';
import type { AnswerRoute } from './nat-discovery.js';
import { NONCE_LENGTH, SecurityFeature } from './nonce.js';
import { Offer, answerIntegrity, offeredAlgorithms } from './password-algorithms.js';
import type { ClientSession } from './session.js';

export interface Request {
  readonly session: ClientSession;
  readonly message: StunMessage;
  readonly now: number;
}

/** A builder for the success response to `request`, SOFTWARE added. */
export function successFor(ctx: EngineContext, request: Request): MessageBuilder {
  const { message } = request;
  const cookie = message.hasMagicCookie ? undefined : message.buffer.subarray(4, 8);
  const builder = new MessageBuilder(message.method, StunClass.SuccessResponse, message.transactionId, cookie);
  if (ctx.config.software) builder.addString(AttributeType.Software, ctx.config.software);
  return builder;
}

/** Sends an error answer with this code (and reason phrase). */
export type Fail = (code: number, reason?: string) => void;

/** The `fail` every handler uses: one error answer, signed with `key` when there is one. */
export function failureFor(ctx: EngineContext, request: Request, key: Buffer | undefined): Fail {
  return (code, reason) => void send(ctx, request, errorFor(ctx, request, code, reason), key);
}

/**
 * Sends the success answer of a request that changes an allocation, and keeps it, so that a
 * retransmission of that request gets the same bytes again (RFC 8489 §6.3.1).
 */
export function answerAndRemember(ctx: EngineContext, request: Request, allocation: Allocation, builder: MessageBuilder): void {
  allocation.lastAnswer.remember(send(ctx, request, builder, allocation.key));
}

/** True, and the kept answer resent, when `request` retransmits the allocation's last one. */
export function resendIfRetransmitted(ctx: EngineContext, request: Request, allocation: Allocation): boolean {
  const answer = allocation.lastAnswer.to(request.message.transactionId);
  if (answer) resend(ctx, request, answer, allocation.key);
  return answer !== undefined;
}

export function errorFor(ctx: EngineContext, request: Request, code: number, reason?: string): MessageBuilder {
  const { message } = request;
  const builder = new MessageBuilder(message.method, StunClass.ErrorResponse, message.transactionId);
  builder.addErrorCode(code, reason);
  if (ctx.config.software) builder.addString(AttributeType.Software, ctx.config.software);
  return builder;
}

/**
 * Seals (integrity with `key` when authenticated, by the HMAC the request calls for;
 * fingerprint when asked) and sends. An
 * unsigned answer over plain UDP (other than a Binding's) is sent only within the source's
 * reply budget: a spoofed source must not get more bytes than it sent.
 */
export function send(ctx: EngineContext, request: Request, builder: MessageBuilder, key?: Buffer): Buffer {
  const data = seal(ctx, request, builder, key);
  if (key === undefined && isBindingSuccess(request, builder)) {
    // Always answered; it uses up the credit its request earned, so Bindings fund no challenge and repay no advance.
    if (request.session.transport === 'udp') ctx.replyBudget?.charge(request.session.remote.address, request.message.buffer.length, data.length);
    request.session.send(data);
    return data;
  }
  const delivered = deliver(ctx, request.session, data, key === undefined);
  if (delivered && builder.errorCode !== undefined) countError(ctx, request, builder.errorCode);
  return data;
}

function seal(ctx: EngineContext, request: Request, builder: MessageBuilder, key: Buffer | undefined): Buffer {
  return builder.build(sealOptions(ctx, request, key));
}

function sealOptions(ctx: EngineContext, request: Request, key: Buffer | undefined): SealOptions {
  const fingerprint = ctx.config.fingerprint || request.message.fingerprint !== undefined;
  const sha256 = key !== undefined && answerIntegrity(request.message) === 'sha256';
  return sha256 ? { integritySha256Key: key, fingerprint } : { integrityKey: key, fingerprint };
}

/**
 * An RFC 5780 answer that is padded, or leaves from another address or port (CHANGE-REQUEST),
 * or goes to another port (RESPONSE-PORT): unlike a plain Binding answer it is sent only
 * within the source's reply budget, signed or not, since PADDING makes it large and a signed
 * request can be replayed from a spoofed source. RESPONSE-PORT keeps the IP, so the answer is
 * charged to the same source. `route` absent: through the session. False when not sent.
 */
export function sendDiscoveryAnswer(ctx: EngineContext, request: Request, builder: MessageBuilder, key: Buffer | undefined, route: AnswerRoute | undefined): boolean {
  const data = seal(ctx, request, builder, key);
  if (!route) return deliver(ctx, request.session, data, true);
  if (!withinBudget(ctx, request.session, data.length)) return false;
  return ctx.alternateAddresses?.sendFrom(route.origin, route.destination, data) ?? false;
}

/** The cached answer to a retransmitted request; unsigned, it is charged to the reply budget like the first. */
function resend(ctx: EngineContext, request: Request, data: Buffer, key: Buffer | undefined): void {
  deliver(ctx, request.session, data, key === undefined);
}

/** Sends `data`, unless it is unsigned, over plain UDP, and beyond what its source has sent. */
function deliver(ctx: EngineContext, session: ClientSession, data: Buffer, unsigned: boolean): boolean {
  if (unsigned && !withinBudget(ctx, session, data.length)) return false;
  session.send(data);
  return true;
}

/** True, and the bytes spent, when an answer of `bytes` may go to the session's source (plain UDP only). */
function withinBudget(ctx: EngineContext, session: ClientSession, bytes: number): boolean {
  if (session.transport !== 'udp' || ctx.replyBudget === undefined || ctx.replyBudget.spend(session.remote.address, bytes)) return true;
  ctx.counters.repliesWithheld++;
  return false;
}

function countError(ctx: EngineContext, request: Request, code: number): void {
  ctx.counters.countError(code);
  if (request.message.method === Method.Binding) ctx.counters.bindingErrors++;
}

/**
 * Binding answers are what STUN is for and are never withheld: 12 bytes over the request for
 * IPv4, 24 for IPv6, more only with `fingerprint` or `software-attribute`.
 */
function isBindingSuccess(request: Request, builder: MessageBuilder): boolean {
  return request.message.method === Method.Binding && builder.cls === StunClass.SuccessResponse;
}

/**
 * 401 or 438 with a fresh NONCE, the REALM and PASSWORD-ALGORITHMS, never signed (RFC 8489
 * §9.2.4). No reason phrase unless one is given: the code says it, and a smaller challenge
 * comes sooner out of the reply budget. The reply budget is asked first and the nonce made
 * only for a challenge that will go: under a spoofed flood most are withheld, and the nonce's
 * HMAC was half of what a withheld one cost.
 */
export function challenge(ctx: EngineContext, request: Request, code: 401 | 438, reason = ''): void {
  const { credentials } = ctx;
  const { remote } = request.session;
  const features = SecurityFeature.PasswordAlgorithms | (credentials.resolvesEveryUserHash ? SecurityFeature.UsernameAnonymity : 0);
  const offer = credentials.everyUserHasSha256Key ? Offer.Sha256First : Offer.Md5First;
  const builder = errorFor(ctx, request, code, reason)
    .addString(AttributeType.Realm, ctx.config.realm)
    .addDeferred(AttributeType.Nonce, NONCE_LENGTH, () => Buffer.from(ctx.nonces.issue(remote.address, request.now, features, offer), 'latin1'))
    .add(AttributeType.PasswordAlgorithms, offeredAlgorithms(offer));
  // RFC 7635 §6.1: tells an OAuth client which server name its token must be made for.
  if (ctx.config.oauthServerName !== undefined) builder.addString(AttributeType.ThirdPartyAuthorization, ctx.config.oauthServerName);
  const options = sealOptions(ctx, request, undefined);
  if (!withinBudget(ctx, request.session, builder.encodedLength(options))) return;
  request.session.send(builder.build(options));
  countError(ctx, request, code);
}
