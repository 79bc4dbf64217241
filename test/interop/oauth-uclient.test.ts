// Third-party authorization (RFC 7635, coturn's --oauth) against Turnpike: coturn's own OAuth
// client (turnutils_uclient -J) and tokens made by coturn's turnutils_oauth, with the keys of
// coturn's test database (testsqldbsetup.sql) in SQLite or in Redis.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttributeType, Method, StunClass, readErrorCode, readString, readUint32, verifyIntegrity } from '../../src/stun/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { runUclient, startPeer, type PeerHandle } from '../support/coturn-tools.js';
import { COTURN_TEST_KEYS, allocateWithToken, coturnIntegrityKey, turnutilsOauthToken } from '../support/oauth-client.js';
import { freePortRange, freeUdpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { startRedisServer } from '../support/redis-server.js';
import { startTurnpike, type TurnpikeHandle } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
const REALM = 'north.gov';
const SERVER_NAME = 'blackdow.carleon.gov';
const MAC_KEY = 'abcdefghijklmnopqrst';
const cleanups = cleanupAfterEach();

/** A SQLite user database made from coturn's own schema and test rows. */
function coturnTestDatabase(dir: string): string {
  const file = path.join(dir, 'turndb.sqlite');
  const db = new DatabaseSync(file);
  db.exec(fs.readFileSync('/usr/share/coturn/schema.sql', 'utf8'));
  db.exec(fs.readFileSync('/usr/share/coturn/testsqldbsetup.sql', 'utf8'));
  db.close();
  return file;
}

async function startOAuthTurnpike(database: string[], extra: string[] = []): Promise<TurnpikeHandle> {
  const port = await freeUdpPort(HOST);
  const minPort = await freePortRange(HOST, 100);
  return startTurnpike([
    '-n', '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST,
    '--min-port', String(minPort), '--max-port', String(minPort + 99), '--no-tcp', '--no-tls', '--no-dtls',
    '--lt-cred-mech', '--realm', REALM, '--oauth', '--server-name', SERVER_NAME, '--allow-loopback-peers',
    ...database, ...extra,
  ], HOST, port);
}

const load = { clients: 4, messages: 50, length: 120, timeoutMs: 45_000 };

describe('oauth with the SQLite user database', () => {
  let dir: string;
  let server: TurnpikeHandle;
  let peer: PeerHandle;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-oauth-'));
    server = await startOAuthTurnpike(['--userdb', coturnTestDatabase(dir)]);
    peer = await startPeer({ host: HOST });
  });
  afterAll(async () => {
    await stopAllProcesses();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['ChannelData (-c)', { noRtcp: true }],
    ['RTP/RTCP pairs (no -c)', {}],
  ])('turnutils_uclient -J allocates with random test keys and relays %s with 0 lost', async (_name, mode) => {
    const r = await runUclient({ host: HOST, port: server.port, ...load, ...mode, peerAddr: peer.host, peerPort: peer.port, extraArgs: ['-J'] });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.sent).toBeGreaterThanOrEqual(load.clients * load.messages);
    expect(r.received).toBe(r.sent);
    expect(r.lostPackets).toBe(0);
  });

  it.each(['north', 'union', 'oldempire'] as const)('a turnutils_oauth token for key %s allocates, and the answer is signed with its MAC key', async (kid) => {
    const token = turnutilsOauthToken({ kid, serverName: SERVER_NAME, macKey: MAC_KEY, lifetimeSeconds: 3600 });
    const { challenge, answer, client } = await allocateWithToken({ address: HOST, port: server.port }, kid, token, coturnIntegrityKey(MAC_KEY));
    cleanups.push(() => client.close());
    expect(readString(challenge, AttributeType.ThirdPartyAuthorization, 763)).toBe(SERVER_NAME);
    expect(answer.cls, JSON.stringify(readErrorCode(answer, AttributeType.ErrorCode))).toBe(StunClass.SuccessResponse);
    expect(verifyIntegrity(answer, coturnIntegrityKey(MAC_KEY))).toBe('ok');
  });

  it("a token's remaining life bounds the allocation's lifetime", async () => {
    const token = turnutilsOauthToken({ kid: 'north', serverName: SERVER_NAME, macKey: MAC_KEY, lifetimeSeconds: 100 });
    const { answer, client } = await allocateWithToken({ address: HOST, port: server.port }, 'north', token, coturnIntegrityKey(MAC_KEY));
    cleanups.push(() => client.close());
    expect(answer.cls).toBe(StunClass.SuccessResponse);
    // 100 s and coturn's 5 s of clock difference, not the default 600 s.
    expect(readUint32(answer, AttributeType.Lifetime)).toBeLessThanOrEqual(105);
  });

  it.each([
    ['expired', () => turnutilsOauthToken({ kid: 'north', serverName: SERVER_NAME, macKey: MAC_KEY, lifetimeSeconds: 3600, timestamp: Math.floor(Date.now() / 1000) - 7200 })],
    ['tampered with', () => {
      const token = turnutilsOauthToken({ kid: 'north', serverName: SERVER_NAME, macKey: MAC_KEY, lifetimeSeconds: 3600 });
      token[20]! ^= 1;
      return token;
    }],
    ['made for another server name', () => turnutilsOauthToken({ kid: 'north', serverName: 'elsewhere.example', macKey: MAC_KEY, lifetimeSeconds: 3600 })],
  ])('a token %s gets coturn\'s 401 challenge again', async (_name, make) => {
    const { answer, client } = await allocateWithToken({ address: HOST, port: server.port }, 'north', make(), coturnIntegrityKey(MAC_KEY));
    cleanups.push(() => client.close());
    expect(answer.cls).toBe(StunClass.ErrorResponse);
    expect(readErrorCode(answer, AttributeType.ErrorCode)?.code).toBe(401);
    expect(readString(answer, AttributeType.Realm, 763)).toBe(REALM);
    expect(readString(answer, AttributeType.ThirdPartyAuthorization, 763)).toBe(SERVER_NAME);
  });

  it('requests without a token are signed with the kept MAC key; a Refresh with a new token may name another kid', async () => {
    const first = turnutilsOauthToken({ kid: 'north', serverName: SERVER_NAME, macKey: MAC_KEY, lifetimeSeconds: 3600 });
    const { answer, client } = await allocateWithToken({ address: HOST, port: server.port }, 'north', first, coturnIntegrityKey(MAC_KEY));
    cleanups.push(() => client.close());
    expect(answer.cls).toBe(StunClass.SuccessResponse);
    const peerAddress = { family: 4 as const, address: peer.host, port: peer.port };
    const permit = (kid: string, key: Buffer) => client.request(Method.CreatePermission, { kid, integrityKey: key }, (b) => b.addXorAddress(AttributeType.XorPeerAddress, peerAddress));
    expect((await permit('north', coturnIntegrityKey(MAC_KEY))).cls).toBe(StunClass.SuccessResponse);

    const otherMacKey = 'ABCDEFGHIJKLMNOPQRST';
    const second = turnutilsOauthToken({ kid: 'union', serverName: SERVER_NAME, macKey: otherMacKey, lifetimeSeconds: 3600 });
    const refreshed = await client.request(Method.Refresh, { kid: 'union', token: second, integrityKey: coturnIntegrityKey(otherMacKey) });
    expect(refreshed.cls, JSON.stringify(readErrorCode(refreshed, AttributeType.ErrorCode))).toBe(StunClass.SuccessResponse);
    expect(verifyIntegrity(refreshed, coturnIntegrityKey(otherMacKey))).toBe('ok');
    // From now on the new kid and key count, and the old ones no longer.
    const renewed = await permit('union', coturnIntegrityKey(otherMacKey));
    expect(renewed.cls).toBe(StunClass.SuccessResponse);
    expect(verifyIntegrity(renewed, coturnIntegrityKey(otherMacKey))).toBe('ok');
    expect(readErrorCode(await permit('north', coturnIntegrityKey(MAC_KEY)), AttributeType.ErrorCode)?.code).toBe(401);
  });

  it('a token under a kid that is not in oauth_key gets 401', async () => {
    const token = turnutilsOauthToken({ kid: 'north', serverName: SERVER_NAME, macKey: MAC_KEY, lifetimeSeconds: 3600 });
    const { answer, client } = await allocateWithToken({ address: HOST, port: server.port }, 'nobody', token, coturnIntegrityKey(MAC_KEY));
    cleanups.push(() => client.close());
    expect(readErrorCode(answer, AttributeType.ErrorCode)?.code).toBe(401);
  });

  it('a client without ACCESS-TOKEN still allocates with its long-term credentials', async () => {
    // ninefingers' key in testsqldbsetup.sql is MD5("ninefingers:north.gov:youhavetoberealistic").
    const r = await runUclient({ host: HOST, port: server.port, ...load, noRtcp: true, user: 'ninefingers', password: 'youhavetoberealistic', peerAddr: peer.host, peerPort: peer.port });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.received).toBe(r.sent);
    expect(r.lostPackets).toBe(0);
  });
});

describe('oauth in other set-ups', () => {
  let peer: PeerHandle;
  beforeAll(async () => {
    peer = await startPeer({ host: HOST });
  });
  afterAll(() => stopAllProcesses());

  it('without oauth, ACCESS-TOKEN stays an unknown comprehension-required attribute (420), as before', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-oauth-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const port = await freeUdpPort(HOST);
    const server = await startTurnpike(['-n', '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST, '--no-tcp', '--no-tls', '--no-dtls',
      '--lt-cred-mech', '--realm', REALM, '--userdb', coturnTestDatabase(dir)], HOST, port);
    cleanups.push(() => server.stop());
    const token = turnutilsOauthToken({ kid: 'north', serverName: SERVER_NAME, macKey: MAC_KEY, lifetimeSeconds: 3600 });
    const { challenge, answer, client } = await allocateWithToken({ address: HOST, port }, 'north', token, coturnIntegrityKey(MAC_KEY));
    cleanups.push(() => client.close());
    expect(challenge.attributes.has(AttributeType.ThirdPartyAuthorization)).toBe(false);
    expect(readErrorCode(answer, AttributeType.ErrorCode)?.code).toBe(420);
  });

  it('relay worker threads read the keys too (relay-threads=2)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-oauth-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const server = await startOAuthTurnpike(['--userdb', coturnTestDatabase(dir)], ['--relay-threads', '2']);
    cleanups.push(() => server.stop());
    const r = await runUclient({ host: HOST, port: server.port, ...load, noRtcp: true, peerAddr: peer.host, peerPort: peer.port, extraArgs: ['-J'] });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.received).toBe(r.sent);
    expect(r.lostPackets).toBe(0);
  });

  it('keys from the Redis user database (turn/oauth/kid/<kid> hashes) serve turnutils_uclient -J', async () => {
    const redis = await startRedisServer(cleanups);
    for (const [kid, key] of Object.entries(COTURN_TEST_KEYS)) {
      await redis.client.hset(`turn/oauth/kid/${kid}`, { ikm_key: key.ikm, as_rs_alg: key.alg, realm: key.realm });
    }
    const server = await startOAuthTurnpike(['--redis-userdb', `ip=${HOST} port=${redis.port} dbname=0`]);
    cleanups.push(() => server.stop());
    const r = await runUclient({ host: HOST, port: server.port, ...load, noRtcp: true, peerAddr: peer.host, peerPort: peer.port, extraArgs: ['-J'] });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.received).toBe(r.sent);
    expect(r.lostPackets).toBe(0);
  });
});
