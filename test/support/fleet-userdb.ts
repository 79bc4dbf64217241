// A user database shared by coturn's and Turnpike's tools (the psql-userdb and mysql-userdb
// interop tests): both turnadmins run as processes, and uclient's traffic through each server.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { ServerOptions } from '../../src/config/server-options.js';
import { createTurnServer } from '../../src/server.js';
import type { Cleanups } from './cleanups.js';
import { runCoturnTurnadmin, runUclient, startCoturnOnUserDb, startPeer, type PeerHandle } from './coturn-tools.js';
import { freePortRange } from './ports.js';
import { testServerOptions } from './server-options.js';
import { startProcess, stopAllProcesses } from './processes.js';
import { ROOT } from './turnpike-process.js';

export const TURNADMIN_JS = path.join(ROOT, 'dist/cli/turnadmin.js');
// coturn's turnadmin prints its log lines on stdout too, after the data.
const COTURN_LOG_LINE = /^\d+: : /;

export type Admin = (...args: string[]) => Promise<string[]>;

/**
 * For the test file: the database server (`startDb`), a turnutils_peer and a temp folder, started
 * before its tests and removed after them; coturn's turnadmin and Turnpike's, run in that folder.
 */
export function fleetFixture<D extends { remove(): Promise<void> }>(startDb: () => Promise<D>) {
  let db: D | undefined;
  let peer: PeerHandle | undefined;
  let dir = '';
  beforeAll(async () => {
    if (!fs.existsSync(TURNADMIN_JS)) throw new Error(`${TURNADMIN_JS} not found (build Turnpike: npm run build)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-fleet-'));
    db = await startDb();
    peer = await startPeer();
  }, 240_000);
  afterAll(async () => {
    await peer?.stop();
    await stopAllProcesses();
    await db?.remove();
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);
  return {
    db: () => db!,
    peer: () => peer!,
    dir: () => dir,
    ...turnadmins(() => dir),
  };
}

/** coturn's turnadmin and Turnpike's, run in `dir()`: each must exit 0; their output lines, log lines left out. */
export function turnadmins(dir: () => string): { coturn: Admin; turnpike: Admin; run: (cmd: string, args: string[]) => Promise<string[]> } {
  async function run(cmd: string, args: string[]): Promise<string[]> {
    const proc = cmd === 'turnadmin' ? await runCoturnTurnadmin(args, dir()) : startProcess(cmd, args, { cwd: dir() });
    const { code } = await proc.exited;
    expect(code, `${cmd} ${args.join(' ')}\n${proc.stdout}\n${proc.stderr}`).toBe(0);
    return proc.stdout.split('\n').filter((l) => l !== '' && !COTURN_LOG_LINE.test(l));
  }
  return { run, coturn: (...args) => run('turnadmin', args), turnpike: (...args) => run(process.execPath, [TURNADMIN_JS, ...args]) };
}

export interface RelayingServer {
  readonly name: string;
  readonly port: number;
  /** Its log, shown when a run fails. */
  log(): string;
}

/** coturn's turnserver (`coturnDbArgs`) and Turnpike (two relay threads, `database`) on one user database, stopped after the test. */
export async function startBothServers(
  cleanups: Cleanups, host: string, realm: string, coturnDbArgs: string[], database: Partial<ServerOptions>,
): Promise<RelayingServer[]> {
  const coturnServer = await startCoturnOnUserDb(host, realm, coturnDbArgs);
  cleanups.push(() => coturnServer.stop());
  const relayFirst = await freePortRange(host, 40);
  const turnpikeServer = await createTurnServer(await testServerOptions({
    realm, serverName: realm, users: [], relayThreads: 2, noTcpRelay: true, minPort: relayFirst, maxPort: relayFirst + 39, ...database,
  }));
  cleanups.push(() => turnpikeServer.close());
  return [
    { name: 'coturn', port: coturnServer.port, log: () => coturnServer.readLog() },
    { name: 'Turnpike', port: turnpikeServer.udpAddresses[0]!.port, log: () => '' },
  ];
}

/** Each user relays 2 × 20 uclient messages through each server with 0 lost; a wrong password allocates nowhere. */
export async function expectUsersRelay(host: string, peer: PeerHandle, servers: readonly RelayingServer[], users: readonly (readonly [string, string])[]): Promise<void> {
  for (const { name, port, log } of servers) {
    for (const [user, password] of users) {
      const load = { host, port, noRtcp: true, clients: 2, messages: 20, peerAddr: peer.host, peerPort: peer.port, user, password, timeoutMs: 30_000 };
      const r = await runUclient(load);
      expect(r.exitCode, `${name}, ${user}: ${r.output}\n--- log ---\n${log()}`).toBe(0);
      expect(r.received, `${name}, ${user}`).toBe(40);
      expect(r.lostPackets, `${name}, ${user}`).toBe(0);
    }
    const wrong = await runUclient({ host, port, noRtcp: true, clients: 1, messages: 1, peerAddr: peer.host, peerPort: peer.port, user: users[0]![0], password: 'wrong', timeoutMs: 15_000 });
    expect(wrong.allocationFailed, `${name}: ${wrong.output}`).toBe(true);
  }
}
