// A user database shared by coturn's and Turnpike's tools (the psql-userdb and mysql-userdb
// interop tests): both turnadmins run as processes, and uclient's traffic through each server.
import path from 'node:path';
import { expect } from 'vitest';
import { runCoturnTurnadmin, runUclient, type PeerHandle } from './coturn-tools.js';
import { startProcess } from './processes.js';
import { ROOT } from './turnpike-process.js';

export const TURNADMIN_JS = path.join(ROOT, 'dist/cli/turnadmin.js');
// coturn's turnadmin prints its log lines on stdout too, after the data.
const COTURN_LOG_LINE = /^\d+: : /;

export type Admin = (...args: string[]) => Promise<string[]>;

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
