// Allocation latency with the user in each user database: SQLite (userdb), PostgreSQL
// (psql-userdb), MySQL/MariaDB (mysql-userdb) and Redis (redis-userdb), each a real server started here.
// Run: npm run bench:alloc-userdb (ALLOCATIONS per database and run, default 1000; RUNS, default 3).
//
// One in-process Turnpike server per database and run; ALLOCATIONS times, one after another, a
// fresh UDP client allocates as `bench` (the 401 challenge, then the authenticated Allocate: one
// user lookup); the clients close at the end. Prints p50/p99/max of the whole exchange per database and run, the
// databases interleaved in each run so that machine noise hits all of them alike.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { UserDb, openUserDb } from '../src/auth/userdb.js';
import { parseMysqlConnection } from '../src/config/mysql-connection.js';
import { parsePgConnection } from '../src/config/pg-connection.js';
import type { ServerOptions } from '../src/config/server-options.js';
import { createTurnServer } from '../src/server.js';
import { AttributeType, StunClass, longTermKey, readErrorCode } from '../src/stun/index.js';
import { startMysqlServer } from '../test/support/mysql-server.js';
import { startPgServer } from '../test/support/pg-server.js';
import { freePortRange } from '../test/support/ports.js';
import { startRedisServer } from '../test/support/redis-server.js';
import { REALM, testServerOptions } from '../test/support/server-options.js';
import { UdpTestClient } from '../test/support/turn-client.js';
import { envInt } from './env.js';
import { runMain } from './run-main.js';

const ALLOCATIONS = envInt('ALLOCATIONS', 1000);
const RUNS = envInt('RUNS', 3);
const USER = { username: 'bench', password: 'bench-password' };
const HEX_KEY = longTermKey(USER.username, REALM, USER.password).toString('hex');
/** Every allocation keeps its relay port until the server closes: a range for all of them. */
const RELAY_PORTS = ALLOCATIONS + 100;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(database: Partial<ServerOptions>): Promise<string> {
  const first = await freePortRange('127.0.0.1', RELAY_PORTS);
  const server = await createTurnServer(await testServerOptions({ users: [], minPort: first, maxPort: first + RELAY_PORTS - 1, ...database }));
  try {
    const times: number[] = [];
    const failed = new Map<string, number>();
    // Kept open until the end: a closed client's port, reused by the next, would be that
    // allocation's 5-tuple again (437 Allocation Mismatch).
    const clients: UdpTestClient[] = [];
    const deadline = Date.now() + 300_000;
    for (let i = 0; i < ALLOCATIONS && Date.now() < deadline; i++) {
      const client = await UdpTestClient.open(server.udpAddresses[0]!, USER);
      clients.push(client);
      const t0 = performance.now();
      const answer = await client.allocate();
      times.push(performance.now() - t0);
      if (answer.cls !== StunClass.SuccessResponse) {
        const why = String(readErrorCode(answer, AttributeType.ErrorCode)?.code ?? 'no error code');
        failed.set(why, (failed.get(why) ?? 0) + 1);
      }
    }
    await Promise.all(clients.map((c) => c.close()));
    times.sort((a, b) => a - b);
    const ms = (v: number) => `${v.toFixed(2)} ms`;
    return `n=${times.length} p50 ${ms(percentile(times, 50))}  p99 ${ms(percentile(times, 99))}  max ${ms(times.at(-1)!)}  failed ${[...failed].map(([why, n]) => `${n} (${why})`).join(', ') || 0}`;
  } finally {
    await server.close();
  }
}

async function main(): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-alloc-bench-'));
  const sqliteFile = path.join(dir, 'turndb');
  const sqlite = new UserDb(openUserDb(sqliteFile));
  sqlite.close();
  const { DatabaseSync } = await import('node:sqlite');
  const file = new DatabaseSync(sqliteFile);
  file.prepare('INSERT INTO turnusers_lt (realm, name, hmackey) VALUES (?, ?, ?)').run(REALM, USER.username, HEX_KEY);
  file.close();

  const pg = await startPgServer();
  const mysql = await startMysqlServer();
  const redisCleanups: (() => Promise<unknown> | void)[] = [];
  try {
    const pgDb = await pg.newDatabase();
    await (await pg.client(pgDb)).query('INSERT INTO turnusers_lt (realm, name, hmackey) VALUES ($1, $2, $3)', [REALM, USER.username, HEX_KEY]);
    const mysqlDb = await mysql.newDatabase();
    await (await mysql.client(mysqlDb)).query('INSERT INTO turnusers_lt (realm, name, hmackey) VALUES (?, ?, ?)', [REALM, USER.username, HEX_KEY]);
    const redis = await startRedisServer({ push: (c) => void redisCleanups.push(c) });
    await redis.client.set(`turn/realm/${REALM}/user/${USER.username}/key`, HEX_KEY);

    const databases: [string, Partial<ServerOptions>][] = [
      ['SQLite    ', { userDb: sqliteFile }],
      ['PostgreSQL', { psqlUserDb: parsePgConnection(pg.keyValue(pgDb)).connection }],
      ['MySQL     ', { mysqlUserDb: parseMysqlConnection(mysql.connectionString(mysqlDb)).connection }],
      ['Redis     ', { redisUserDb: { host: '127.0.0.1', port: redis.port, db: 0, username: undefined, password: undefined, connectTimeoutSeconds: 0 } }],
    ];
    console.log(`allocation latency (challenge + authenticated Allocate), ${ALLOCATIONS} allocations per database and run`);
    for (let run = 1; run <= RUNS; run++) {
      for (const [name, options] of databases) console.log(`run ${run}  ${name}  ${await measure(options)}`);
    }
    return 0;
  } finally {
    for (const cleanup of redisCleanups.reverse()) await cleanup();
    await pg.remove();
    await mysql.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);
