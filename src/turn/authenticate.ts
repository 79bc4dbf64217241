/**
 * The long-term credential mechanism (RFC 8489 §9.2) for every TURN request. Unknown users
 * and wrong keys take the same work and get the same 401, so neither is revealed.
 */
import { createHash } from 'node:crypto';
import { AttributeType, readString, verifyIntegrity, type StunMessage } from '../stun/index.js';
import type { EngineContext } from './engine-context.js';
import { oauthLookup, type OAuthGrant } from './oauth-authenticate.js';
import { challenge, errorFor, send, type Request } from './respond.js';

export interface Authenticated {
  readonly username: string;
  readonly realm: string;
  /** Undefined when the server runs with `no-auth`. */
  readonly key: Buffer | undefined;
  /** Present when an RFC 7635 ACCESS-TOKEN gave the key. */
  readonly oauth?: OAuthGrant;
}

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** Stands in for the key of an unknown user, so that the HMAC is computed all the same. */
const UNKNOWN_USER_KEY = createHash('md5').update('turnpike:unknown-user').digest();

/** The key that verifies the message, trying each candidate (a stand-in when there is none). */
function matchingKey(message: StunMessage, keys: readonly Buffer[]): Buffer | undefined {
  if (keys.length === 0) {
    verifyIntegrity(message, UNKNOWN_USER_KEY);
    return undefined;
  }
  let found: Buffer | undefined;
  for (const key of keys) if (verifyIntegrity(message, key) === 'ok') found ??= key;
  return found;
}

/** Checks the request's credentials; on failure it has answered and returns undefined. */
export async function authenticate(ctx: EngineContext, request: Request): Promise<Authenticated | undefined> {
  if (ctx.config.authMode === 'none') return { username: '', realm: ctx.config.realm, key: undefined };
  const { message } = request;
  if (!message.messageIntegrity && !message.messageIntegritySha256) {
    challenge(ctx, request, 401);
    return undefined;
  }
  const username = readString(message, AttributeType.Username, 513);
  const realm = readString(message, AttributeType.Realm, 763);
  const nonce = readString(message, AttributeType.Nonce, 763);
  if (username === undefined || realm === undefined || nonce === undefined) {
    send(ctx, request, errorFor(ctx, request, 400, 'Missing USERNAME, REALM or NONCE'));
    return undefined;
  }
  const nonceState = ctx.nonces.check(nonce, request.session.remote.address, request.now);
  if (nonceState !== 'valid') {
    challenge(ctx, request, 438);
    return undefined;
  }
  // A name with control characters (NUL above all) is never looked up: it is nobody's.
  const lookable = realm === ctx.config.realm && !CONTROL_CHARACTERS.test(username);
  const viaToken = lookable ? await oauthLookup(ctx, request, username) : undefined;
  const lookup = viaToken ?? (lookable ? await ctx.credentials.keysFor(username, realm, request.now) : undefined);
  const key = matchingKey(message, lookup?.keys ?? []);
  if (!key || !lookup?.valid) {
    ctx.counters.authFailures++;
    const why = viaToken?.refusal !== undefined ? ` (${viaToken.refusal})` : '';
    ctx.logger.verbose(`401: credentials refused for user "${username}" from ${request.session.remote.address}${why}`);
    challenge(ctx, request, 401);
    return undefined;
  }
  ctx.counters.authSuccesses++;
  return { username, realm: viaToken?.realm ?? realm, key, oauth: viaToken?.grant };
}
