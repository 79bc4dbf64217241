/**
 * The RFC 7635 side of authentication, with `oauth`: a request carrying an ACCESS-TOKEN is signed
 * with the MAC key inside the token. coturn's clients send the token only on Allocate and Refresh
 * and sign the requests between with the same key, so the allocation keeps it (as coturn's session does).
 */
import type { KeyLookup } from '../auth/credentials.js';
import { openAccessToken } from '../auth/oauth.js';
import { AttributeType, readBytes, type StunMessage } from '../stun/index.js';
import type { EngineConfig, EngineContext } from './engine-context.js';
import type { Request } from './respond.js';

/** What a token granted: until when its key may be used (undefined: no end). */
export interface OAuthGrant {
  readonly expiresAt: number | undefined;
}

/** Whole seconds the token leaves, which bound an allocation's lifetime (as in coturn); undefined: no bound. */
export function tokenSecondsLeft(grant: OAuthGrant | undefined, now: number): number | undefined {
  const end = grant?.expiresAt;
  return end === undefined ? undefined : Math.max(0, Math.floor((end - now) / 1000));
}

export interface OAuthLookup extends KeyLookup {
  /** The realm the key puts the client in, when it names one. */
  readonly realm?: string;
  /** Present when the request carried a token that opened. */
  readonly grant?: OAuthGrant;
  /** Why the token was refused, for the log. */
  readonly refusal?: string;
}

/** The key for an OAuth request from `kid`; undefined when the request is not one (the usual credentials apply). */
export async function oauthLookup(ctx: EngineContext, request: Request, kid: string): Promise<OAuthLookup | undefined> {
  const serverName = ctx.config.oauthServerName;
  if (serverName === undefined) return undefined;
  const token = readBytes(request.message, AttributeType.AccessToken);
  if (!token) {
    const allocation = request.session.allocation;
    const keptKey = allocation?.oauth && allocation.username === kid ? allocation.key : undefined;
    return keptKey ? { keys: [keptKey], valid: true, realm: allocation!.realm } : undefined;
  }
  if (!ctx.oauthKeys) return { keys: [], valid: false, refusal: 'no user database holds oAuth keys' };
  const opened = await openAccessToken(ctx.oauthKeys, kid, token, serverName, request.now);
  if (!opened.ok) return { keys: [], valid: false, refusal: opened.reason };
  return { keys: opened.integrityKeys, valid: true, realm: opened.realm, grant: { expiresAt: opened.expiresAt } };
}

/** The comprehension-required attributes not understood (420): ACCESS-TOKEN is understood only with `oauth`. */
export function unknownRequiredAttributes(message: StunMessage, config: EngineConfig): readonly number[] {
  const unknown = message.unknownRequired;
  if (config.oauthServerName === undefined || unknown.length === 0) return unknown;
  return unknown.filter((type) => type !== AttributeType.AccessToken);
}
