// Credential sources a server is started with: coturn's SQLite user database (read live)
// and TURN REST API secrets (rotating), next to static users.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { restPassword } from '../../src/auth/rest-api.js';
import { COTURN_SCHEMA } from '../../src/auth/userdb.js';
import type { ServerOptions } from '../../src/config/server-options.js';
import { createTurnServer, type TurnServer } from '../../src/server.js';
import { AttributeType, StunClass, longTermKey, readErrorCode, readString, type StunMessage } from '../../src/stun/index.js';
import { silentLogger } from '../../src/log/logger-interface.js';
import { ALICE, REALM, testServerOptions } from '../support/server-options.js';
import { UdpTestClient, type Credentials } from '../support/turn-client.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';

const cleanups = cleanupAfterEach();

const warnings: string[] = [];
const recordingLogger = { ...silentLogger, warn: (m: string) => void warnings.push(m) };

const startServer = (overrides: Partial<ServerOptions>): Promise<TurnServer> => startInProcessServer(cleanups, overrides, recordingLogger);

async function allocateAs(server: TurnServer, credentials: Credentials): Promise<StunMessage> {
  const c = await UdpTestClient.open(server.udpAddresses[0]!, credentials);
  cleanups.push(() => c.close());
  return c.allocate();
}

const succeeded = (m: StunMessage) => m.cls === StunClass.SuccessResponse;
const code = (m: StunMessage) => readErrorCode(m, AttributeType.ErrorCode)?.code;

function tempDb(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-userdb-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'turndb');
  const db = new DatabaseSync(file);
  db.exec(COTURN_SCHEMA);
  db.close();
  return file;
}

function addUser(file: string, name: string, password: string): void {
  const db = new DatabaseSync(file);
  db.prepare('INSERT OR REPLACE INTO turnusers_lt (realm, name, hmackey) VALUES (?, ?, ?)').run(REALM, name, longTermKey(name, REALM, password).toString('hex'));
  db.close();
}

describe('the SQLite user database', () => {
  it('authenticates its users, including one added while the server runs', async () => {
    const file = tempDb();
    addUser(file, 'dora', 'explorer');
    const server = await startServer({ users: [], userDb: file });
    expect(succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(true);
    expect(code(await allocateAs(server, { username: 'eve', password: 'later' }))).toBe(401);
    addUser(file, 'eve', 'later');
    expect(succeeded(await allocateAs(server, { username: 'eve', password: 'later' }))).toBe(true);
    expect(code(await allocateAs(server, { username: 'eve', password: 'wrong' }))).toBe(401);
  });

  it('answers from what it last read while another process holds the database locked', async () => {
    const file = tempDb();
    addUser(file, 'dora', 'explorer');
    const server = await startServer({ users: [], userDb: file });
    expect(succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(true);
    const locker = new DatabaseSync(file);
    locker.exec('BEGIN EXCLUSIVE');
    try {
      expect(succeeded(await allocateAs(server, { username: 'dora', password: 'explorer' }))).toBe(true);
      expect(code(await allocateAs(server, { username: 'dora', password: 'wrong' }))).toBe(401);
      expect(code(await allocateAs(server, { username: 'never-seen', password: 'x' }))).toBe(401);
      expect(warnings.some((w) => /database is locked.*last known answer/.test(w))).toBe(true);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
  });

  it('refuses to start on a file that is not coturn\'s schema, saying so', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-userdb-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'other.db');
    const db = new DatabaseSync(file);
    db.exec('CREATE TABLE something (x)');
    db.close();
    await expect(createTurnServer(await testServerOptions({ userDb: file }))).rejects.toThrow(/not a coturn user database/);
  });
});

describe('TURN REST API secrets', () => {
  const rest = (secret: string, expiry: number, user = 'rest-user'): Credentials => {
    const username = `${expiry}:${user}`;
    return { username, password: restPassword(secret, username) };
  };
  const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

  it('accepts names signed with any current secret (rotation), and static users beside them', async () => {
    const server = await startServer({ useAuthSecret: true, staticAuthSecrets: ['old-secret', 'new-secret'] });
    expect(succeeded(await allocateAs(server, rest('old-secret', inAnHour())))).toBe(true);
    expect(succeeded(await allocateAs(server, rest('new-secret', inAnHour())))).toBe(true);
    expect(succeeded(await allocateAs(server, ALICE))).toBe(true);
  });

  it('refuses another secret and an expired name with 401', async () => {
    const server = await startServer({ useAuthSecret: true, staticAuthSecrets: ['the-secret'] });
    expect(code(await allocateAs(server, rest('not-the-secret', inAnHour())))).toBe(401);
    expect(code(await allocateAs(server, rest('the-secret', Math.floor(Date.now() / 1000) - 1)))).toBe(401);
  });

  it('reads secrets from the user database, added while running', async () => {
    const file = tempDb();
    const server = await startServer({ users: [], userDb: file, useAuthSecret: true, staticAuthSecrets: [] });
    expect(code(await allocateAs(server, rest('db-secret', inAnHour())))).toBe(401);
    const db = new DatabaseSync(file);
    db.prepare('INSERT INTO turn_secret (realm, value) VALUES (?, ?)').run(REALM, 'db-secret');
    db.close();
    expect(succeeded(await allocateAs(server, rest('db-secret', inAnHour())))).toBe(true);
  });
});

describe('names that are nobody\'s', () => {
  it('refuses a username with NUL or other control characters with 401, even if a user by the visible part exists', async () => {
    const server = await startServer({});
    for (const username of ['alice\u0000', 'ali\u0007ce', 'alice\n']) {
      expect(code(await allocateAs(server, { username, password: ALICE.password }))).toBe(401);
    }
  });

  it('answers a REALM that is not ours with 401 carrying ours', async () => {
    const server = await startServer({});
    const c = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
    cleanups.push(() => c.close());
    await c.allocate(); // learns our realm and nonce
    c.realm = 'other.example';
    const response = await c.allocate();
    expect(code(response)).toBe(401);
    expect(readString(response, AttributeType.Realm, 763)).toBe(REALM);
  });
});
