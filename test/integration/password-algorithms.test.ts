// RFC 8489's password algorithms and USERHASH, end to end over real UDP: a client of our own
// that speaks RFC 8489 allocates with SHA-256 and with USERHASH, a bid-down is refused, and an
// RFC 5389 client (MD5, MESSAGE-INTEGRITY) sees what it always saw.
import { describe, expect, it } from 'vitest';
import { restPassword } from '../../src/auth/rest-api.js';
import type { ServerOptions } from '../../src/config/server-options.js';
import type { TurnServer } from '../../src/server.js';
import {
  AttributeType,
  MessageBuilder,
  Method,
  StunClass,
  longTermKey,
  readBytes,
  readErrorCode,
  readString,
  verifyIntegrity,
  type StunMessage,
} from '../../src/stun/index.js';
import { ALICE, ALICE_KEY, BOB, BOB_USER, REALM } from '../support/server-options.js';
import { UdpTestClient, type Credentials } from '../support/turn-client.js';
import type { Rfc8489Client } from '../support/long-term-session.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';

const cleanups = cleanupAfterEach();

const startServer = (overrides: Partial<ServerOptions> = {}): Promise<TurnServer> =>
  startInProcessServer(cleanups, { users: [{ name: ALICE.username, key: ALICE_KEY }, BOB_USER], ...overrides });

async function clientOf(server: TurnServer, credentials: Credentials, rfc8489?: Rfc8489Client): Promise<UdpTestClient> {
  const client = await UdpTestClient.open(server.udpAddresses[0]!, credentials);
  cleanups.push(() => client.close());
  client.auth.rfc8489 = rfc8489;
  return client;
}

const code = (m: StunMessage) => readErrorCode(m, AttributeType.ErrorCode)?.code;
const reason = (m: StunMessage) => readErrorCode(m, AttributeType.ErrorCode)?.reason;
/** PASSWORD-ALGORITHMS, SHA-256 first: when every user has a SHA-256 key. */
const SHA256_FIRST = Buffer.from('0002000000010000', 'hex');
/** MD5 first: when some user has an MD5 key only (alice here), so that RFC 8489 clients pick MD5. */
const MD5_FIRST = Buffer.from('0001000000020000', 'hex');
const SHA256_REFUSED = 'Wrong credentials, or no SHA-256 key for this user (it has an MD5 key only)';

describe('RFC 8489 password algorithms over UDP', () => {
  it('challenges with the nonce cookie (password algorithms, username anonymity) and PASSWORD-ALGORITHMS, SHA-256 first when every user has its key', async () => {
    const firstChallenge = async (server: TurnServer): Promise<StunMessage> => {
      const client = await clientOf(server, BOB);
      return client.transact(new MessageBuilder(Method.Allocate, StunClass.Request).addFirstByte(AttributeType.RequestedTransport, 17));
    };
    const everyoneSha256 = await firstChallenge(await startServer({ users: [BOB_USER] }));
    expect(code(everyoneSha256)).toBe(401);
    // Bits 0 and 1 (RFC 8489 §18.1, bit 0 the rightmost): 0x000003.
    expect(readString(everyoneSha256, AttributeType.Nonce, 763)).toMatch(/^obMatJos2AAAD[A-Za-z0-9_-]{19}$/);
    expect(readBytes(everyoneSha256, AttributeType.PasswordAlgorithms)).toEqual(SHA256_FIRST);

    const someMd5Only = await firstChallenge(await startServer());
    expect(readBytes(someMd5Only, AttributeType.PasswordAlgorithms)).toEqual(MD5_FIRST);
  });

  it('allocates with SHA-256 and answers with MESSAGE-INTEGRITY-SHA256 made with the SHA-256 key', async () => {
    const server = await startServer();
    const client = await clientOf(server, BOB, { algorithm: 'sha256' });
    const allocated = await client.allocate();
    expect(allocated.cls).toBe(StunClass.SuccessResponse);
    expect(allocated.messageIntegrity).toBeUndefined();
    expect(verifyIntegrity(allocated, longTermKey(BOB.username, REALM, BOB.password, 'sha256'))).toBe('ok');
    const refreshed = await client.refresh(600);
    expect(refreshed.cls).toBe(StunClass.SuccessResponse);
    expect(refreshed.messageIntegritySha256).toBeDefined();
    expect(server.engine.allocations.size).toBe(1);
  });

  it('allocates with USERHASH in place of USERNAME, and refuses a USERHASH nobody has', async () => {
    const server = await startServer();
    const client = await clientOf(server, BOB, { algorithm: 'sha256', userhash: true });
    expect((await client.allocate()).cls).toBe(StunClass.SuccessResponse);
    expect(server.engine.allocations.size).toBe(1);

    const stranger = await clientOf(server, { username: 'mallory', password: BOB.password }, { algorithm: 'sha256', userhash: true });
    expect(code(await stranger.allocate())).toBe(401);
  });

  it('refuses a bid-down with 400: PASSWORD-ALGORITHMS stripped, altered, or PASSWORD-ALGORITHM left out', async () => {
    const server = await startServer();
    const attempts: Rfc8489Client[] = [
      { algorithm: 'md5', echoedAlgorithms: null },
      { algorithm: 'md5', echoedAlgorithms: Buffer.from('00010000', 'hex') },
      // The other order: what the nonce says was sent decides, not what this server could send.
      { algorithm: 'md5', echoedAlgorithms: SHA256_FIRST },
      { algorithm: 'sha256', omitChosen: true },
    ];
    for (const attempt of attempts) {
      const client = await clientOf(server, BOB, attempt);
      expect(code(await client.allocate())).toBe(400);
    }
    expect(server.engine.allocations.size).toBe(0);
  });

  it('refuses a nonce whose cookie was altered to drop the features: the HMAC covers them', async () => {
    const server = await startServer();
    const client = await clientOf(server, BOB);
    await client.allocate(); // learns a nonce, and allocates
    const forged = client.nonce!.replace(/^obMatJos2AAAD/, 'obMatJos2AAAA');
    const builder = new MessageBuilder(Method.Refresh, StunClass.Request)
      .addString(AttributeType.Username, BOB.username)
      .addString(AttributeType.Realm, REALM)
      .addString(AttributeType.Nonce, forged);
    expect(code(await client.transact(builder, builder.build({ integrityKey: client.key })))).toBe(438);
  });

  it('refuses SHA-256 for a user with an MD5 key only, saying why, and lets the same user in with MD5', async () => {
    const server = await startServer();
    const sha256 = await clientOf(server, ALICE, { algorithm: 'sha256' });
    const refused = await sha256.allocate();
    expect(code(refused)).toBe(401);
    expect(reason(refused)).toBe(SHA256_REFUSED);
    // The same answer to a wrong password: it does not tell which names have MD5 keys only.
    const wrong = await clientOf(server, { ...BOB, password: 'nope' }, { algorithm: 'sha256' });
    expect(reason(await wrong.allocate())).toBe(SHA256_REFUSED);

    const md5 = await clientOf(server, ALICE, { algorithm: 'md5' });
    const allocated = await md5.allocate();
    expect(allocated.cls).toBe(StunClass.SuccessResponse);
    // Named explicitly, MD5 too is answered with MESSAGE-INTEGRITY-SHA256 (RFC 8489 §9.2.4).
    expect(allocated.messageIntegritySha256).toBeDefined();
    expect(verifyIntegrity(allocated, ALICE_KEY)).toBe('ok');
  });

  it('takes SHA-256 for REST API names, and offers no username anonymity with REST secrets', async () => {
    const secret = 'rest-secret';
    const server = await startServer({ useAuthSecret: true, staticAuthSecrets: [secret] });
    const name = `${Math.floor(Date.now() / 1000) + 3600}:carol`;
    const client = await clientOf(server, { username: name, password: restPassword(secret, name) }, { algorithm: 'sha256' });
    expect((await client.allocate()).cls).toBe(StunClass.SuccessResponse);
    // Password algorithms only (0x000001): an RFC 8489 client must not send a USERHASH no one could look up.
    expect(client.nonce).toMatch(/^obMatJos2AAAB/);
  });

  it('answers an RFC 5389 client as before: MD5 key, MESSAGE-INTEGRITY, the cookie nonce taken as opaque', async () => {
    const server = await startServer();
    const client = await clientOf(server, ALICE);
    const allocated = await client.allocate();
    expect(allocated.cls).toBe(StunClass.SuccessResponse);
    expect(allocated.messageIntegritySha256).toBeUndefined();
    expect(verifyIntegrity(allocated, ALICE_KEY)).toBe('ok');
  });
});
