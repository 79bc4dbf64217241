/**
 * The long-term credential mechanism (RFC 8489 §9.2) for every TURN request. Unknown users
 * and wrong keys take the same work and get the same 401, so neither is revealed.
 */
import { createHash } from 'node:crypto';
import type { KeyLookup } from '../auth/credentials.js';
import { AttributeType, readBytes, readString, verifyIntegrity, type StunMessage } from '../stun/index.js';
import type { PasswordAlgorithm } from '../stun/integrity.js';
import type { EngineContext } from './engine-context.js';
import { oauthLookup, type OAuthGrant, type OAuthLookup } from './oauth-authenticate.js';
import { nonceContents } from './nonce.js';
import { chosenPasswordAlgorithm } from './password-algorithms.js';
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

/** Stands in for the name of a USERHASH nobody has: it is refused like an unknown user. */
const UNKNOWN_HASH = '\u0000unknown USERHASH';

/** What a 401 to a SHA-256 request says: this server offers SHA-256, but not every user can use it. */
const SHA256_REFUSED = 'Wrong credentials, or no SHA-256 key for this user (it has an MD5 key only)';

/** USERNAME, else the user whose USERHASH (RFC 8489 §14.4) it is; undefined when neither is there. */
function usernameOf(ctx: EngineContext, message: StunMessage, realm: string | undefined): string | undefined {
  const username = readString(message, AttributeType.Username, 513);
  if (username !== undefined) return username;
  const userhash = readBytes(message, AttributeType.Userhash);
  if (userhash === undefined) return undefined;
  if (userhash.length !== 32 || realm === undefined) return UNKNOWN_HASH;
  return ctx.credentials.usernameForHash(userhash, realm) ?? UNKNOWN_HASH;
}

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

/**
 * Checks the request's credentials; on failure it has answered and returns undefined. Without a
 * Promise whatever needs no lookup that waits (an unsigned request's 401, a stale nonce's 438, a
 * user whose keys are in memory): the answer is queued in the turn the request came in, with no
 * await or microtask on its way (issue 14); only a user database or an OAuth token is awaited.
 */
export function authenticate(ctx: EngineContext, request: Request): Authenticated | undefined | Promise<Authenticated | undefined> {
  if (ctx.config.authMode === 'none') return { username: '', realm: ctx.config.realm, key: undefined };
  const { message } = request;
  if (!message.messageIntegrity && !message.messageIntegritySha256) {
    challenge(ctx, request, 401);
    return undefined;
  }
  const realm = readString(message, AttributeType.Realm, 763);
  const username = usernameOf(ctx, message, realm);
  const nonce = readString(message, AttributeType.Nonce, 763);
  if (username === undefined || realm === undefined || nonce === undefined) {
    send(ctx, request, errorFor(ctx, request, 400, 'Missing USERNAME or USERHASH, REALM or NONCE'));
    return undefined;
  }
  const nonceState = ctx.nonces.check(nonce, request.session.remote.address, request.now);
  if (nonceState !== 'valid') {
    challenge(ctx, request, 438);
    return undefined;
  }
  // The nonce is ours, so are the features its cookie claims: a request cannot bid them down.
  const { features, tag } = nonceContents(nonce);
  const chosen = chosenPasswordAlgorithm(message, features, tag);
  if (typeof chosen === 'string') {
    send(ctx, request, errorFor(ctx, request, 400, chosen));
    return undefined;
  }
  const claim: Claim = { username, realm, algorithm: chosen.algorithm };
  // A name with control characters (NUL above all) is never looked up: it is nobody's.
  const lookable = username !== UNKNOWN_HASH && realm === ctx.config.realm && !CONTROL_CHARACTERS.test(username);
  if (!lookable) return decide(ctx, request, claim, undefined, undefined);
  if (ctx.config.oauthServerName !== undefined) return viaTokenOrKeys(ctx, request, claim);
  const lookup = ctx.credentials.keysFor(username, realm, request.now, chosen.algorithm);
  return lookup instanceof Promise ? lookup.then((keys) => decide(ctx, request, claim, keys, undefined)) : decide(ctx, request, claim, lookup, undefined);
}

/** Who the request says it is, and the password algorithm its key is derived with. */
interface Claim {
  readonly username: string;
  readonly realm: string;
  readonly algorithm: PasswordAlgorithm;
}

/** With `oauth`: the ACCESS-TOKEN's keys (RFC 7635), else the user's own. */
async function viaTokenOrKeys(ctx: EngineContext, request: Request, claim: Claim): Promise<Authenticated | undefined> {
  const viaToken = await oauthLookup(ctx, request, claim.username);
  const lookup = viaToken ?? (await ctx.credentials.keysFor(claim.username, claim.realm, request.now, claim.algorithm));
  return decide(ctx, request, claim, lookup, viaToken);
}

/** Whether one of the keys found verifies the request; a refusal is answered here (401). */
function decide(ctx: EngineContext, request: Request, claim: Claim, lookup: KeyLookup | undefined, viaToken: OAuthLookup | undefined): Authenticated | undefined {
  const { username, algorithm } = claim;
  const key = matchingKey(request.message, lookup?.keys ?? []);
  if (!key || !lookup?.valid) {
    ctx.counters.authFailures++;
    const why = viaToken?.refusal !== undefined
      ? ` (${viaToken.refusal})`
      : lookup?.md5Only && algorithm === 'sha256' ? ' (SHA-256 chosen, but the user has an MD5 key only: it needs its password)' : '';
    const who = username === UNKNOWN_HASH ? 'an unknown USERHASH' : `user "${username}"`;
    ctx.logger.verbose(`401: credentials refused for ${who} from ${request.session.remote.address}${why}`);
    // One reason for every SHA-256 refusal, so it tells no name with an MD5 key from a wrong password.
    challenge(ctx, request, 401, algorithm === 'sha256' ? SHA256_REFUSED : '');
    return undefined;
  }
  ctx.counters.authSuccesses++;
  return { username, realm: viaToken?.realm ?? claim.realm, key, oauth: viaToken?.grant };
}
