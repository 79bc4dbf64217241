/**
 * Third-party authorization (RFC 7635) as coturn's `oauth` does it (userdb.c get_user_key): the
 * USERNAME names the key (kid) in the user database's `oauth_key` table, the ACCESS-TOKEN opens
 * with that key and the server name, and the MAC key inside it signs the request.
 */
import { OAuthKeyError, decodeAccessToken, oauthKeyOf, type OAuthKeyRow } from './oauth-token.js';

/** Where `oauth_key` rows come from: the SQLite or the Redis user database. */
export interface OAuthKeySource {
  oauthKeyFor(kid: string): OAuthKeyRow | undefined | Promise<OAuthKeyRow | undefined>;
}

/** coturn's OAUTH_TIME_DELTA: seconds of clock difference forgiven on every expiry. */
const TIME_DELTA_SECONDS = 5;

/** coturn accepts only a MAC key for HMAC-SHA1 (MESSAGE-INTEGRITY, 20 bytes). */
const MAC_KEY_SIZE = 20;

export type OpenedToken =
  | {
      readonly ok: true;
      /** The MESSAGE-INTEGRITY keys the token allows (see integrityKeysOf). */
      readonly integrityKeys: readonly Buffer[];
      /** The key's realm, when it has one: the client's quotas and options are that realm's. */
      readonly realm: string | undefined;
      /** Milliseconds since the epoch when the token ends; undefined: it does not. */
      readonly expiresAt: number | undefined;
    }
  | { readonly ok: false; readonly reason: string };

/** Opens the ACCESS-TOKEN of a request whose USERNAME is `kid`; the caller checks the integrity. */
export async function openAccessToken(
  keys: OAuthKeySource,
  kid: string,
  token: Buffer,
  serverName: string,
  nowMs: number,
): Promise<OpenedToken> {
  const row = await keys.oauthKeyFor(kid);
  if (!row) return { ok: false, reason: `no oAuth key "${kid}"` };
  const now = nowMs / 1000;
  if (row.lifetime > 0 && now >= row.timestamp + row.lifetime + TIME_DELTA_SECONDS) {
    return { ok: false, reason: `oAuth key "${kid}" has expired` };
  }
  let decoded;
  try {
    decoded = decodeAccessToken(token, oauthKeyOf(row), serverName);
  } catch (error) {
    if (error instanceof OAuthKeyError) return { ok: false, reason: error.message };
    throw error;
  }
  if (!decoded) return { ok: false, reason: `the oAuth token does not open with key "${kid}" and server name "${serverName}"` };
  if (decoded.macKey.length !== MAC_KEY_SIZE) {
    return { ok: false, reason: `the oAuth token's MAC key is ${decoded.macKey.length} bytes, not ${MAC_KEY_SIZE}` };
  }
  let expiresAt: number | undefined;
  if (decoded.lifetime > 0) {
    const end = decoded.timestampSeconds + decoded.lifetime + TIME_DELTA_SECONDS;
    if (now >= end) return { ok: false, reason: 'the oAuth token is too old' };
    expiresAt = end * 1000;
  }
  return { ok: true, integrityKeys: integrityKeysOf(decoded.macKey), realm: row.realm !== '' ? row.realm : undefined, expiresAt };
}

/**
 * coturn (server and clients, turnutils_uclient -J among them) signs with the first 16 bytes of
 * the MAC key, the key size of its long-term credentials; RFC 7635 §6.2 with the whole key.
 * Both are accepted, coturn's first.
 */
function integrityKeysOf(macKey: Buffer): readonly Buffer[] {
  return [macKey.subarray(0, 16), macKey];
}
