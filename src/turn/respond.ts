/** Building and sending the answer to a request, with the integrity and fingerprint rules. */
import { AttributeType, MessageBuilder, Method, StunClass, type StunMessage } from '../stun/index.js';
import type { EngineContext } from './engine-context.js';
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

export function errorFor(ctx: EngineContext, request: Request, code: number, reason?: string): MessageBuilder {
  const { message } = request;
  const builder = new MessageBuilder(message.method, StunClass.ErrorResponse, message.transactionId);
  builder.addErrorCode(code, reason);
  if (ctx.config.software) builder.addString(AttributeType.Software, ctx.config.software);
  ctx.counters.countError(code);
  if (message.method === Method.Binding) ctx.counters.bindingErrors++;
  return builder;
}

/** Seals (integrity with `key` when authenticated; fingerprint when asked) and sends. */
export function send(ctx: EngineContext, request: Request, builder: MessageBuilder, key?: Buffer): Buffer {
  const fingerprint = ctx.config.fingerprint || request.message.fingerprint !== undefined;
  const data = builder.build({ integrityKey: key, fingerprint });
  request.session.send(data);
  return data;
}

/** 401 or 438 with a fresh NONCE and the REALM, never signed (RFC 8489 §9.2.4). */
export function challenge(ctx: EngineContext, request: Request, code: 401 | 438, reason?: string): void {
  const builder = errorFor(ctx, request, code, reason)
    .addString(AttributeType.Realm, ctx.config.realm)
    .addString(AttributeType.Nonce, ctx.nonces.issue(request.session.remote.address, request.now));
  send(ctx, request, builder);
}
