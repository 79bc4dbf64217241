// Turnpike's turnadmin and coturn 4.6.1's on the same SQLite file, as real processes: each
// lists what the other wrote, in the same format; a user (and a REST secret) written by
// Turnpike's turnadmin lets turnutils_uclient allocate through coturn's own turnserver.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyEncryptedPassword } from '../../src/admin/index.js';
import { runCoturnTurnadmin, runUclient, startCoturn, startPeer, type PeerHandle } from '../support/coturn-tools.js';
import { freePortRange, freeUdpTcpPort } from '../support/ports.js';
import { startProcess, stopAllProcesses } from '../support/processes.js';
import { ROOT } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
const TURNADMIN_JS = path.join(ROOT, 'dist/cli/turnadmin.js');
const TURNPIKE_JS = path.join(ROOT, 'dist/cli/turnpike.js');
// coturn's turnadmin prints its log lines on stdout too, after the data: `0: : SQLite connection was closed.`
const COTURN_LOG_LINE = /^\d+: : /;

let dir: string;

interface Run {
  code: number | null;
  /** Data lines only (coturn's log lines left out). */
  lines: string[];
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[]): Promise<Run> {
  const proc = cmd === 'turnadmin' ? await runCoturnTurnadmin(args, dir) : startProcess(cmd, args, { cwd: dir });
  const { code } = await proc.exited;
  const lines = proc.stdout.split('\n').filter((l) => l !== '' && !COTURN_LOG_LINE.test(l));
  return { code, lines, stdout: proc.stdout, stderr: proc.stderr };
}

const coturn = (...args: string[]) => run('turnadmin', args);
const turnpike = (...args: string[]) => run(process.execPath, [TURNADMIN_JS, ...args]);

async function ok(r: Promise<Run>): Promise<string[]> {
  const done = await r;
  expect(done.code, `${done.stdout}\n${done.stderr}`).toBe(0);
  return done.lines;
}

beforeAll(() => {
  if (!fs.existsSync(TURNADMIN_JS)) throw new Error(`${TURNADMIN_JS} not found (build Turnpike: npm run build)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-turnadmin-'));
});
afterAll(async () => {
  await stopAllProcesses();
  if (!process.env.KEEP_TEST_TMP) fs.rmSync(dir, { recursive: true, force: true });
});

describe("one database, coturn's turnadmin and Turnpike's", () => {
  it("Turnpike lists, in coturn's format, what coturn's turnadmin wrote", async () => {
    const db = path.join(dir, 'by-coturn.db');
    await ok(coturn('-a', '-b', db, '-u', 'alice', '-r', 'north.gov', '-p', 'secret'));
    await ok(coturn('-a', '-b', db, '-u', 'bob', '-r', 'south.gov', '-p', 'pw'));
    await ok(coturn('-A', '-b', db, '-u', 'root', '-p', 'adminpw'));
    await ok(coturn('-s', 'sharedsecret', '-b', db, '-r', 'north.gov'));
    await ok(coturn('-O', '-b', db, '-o', 'https://app.example', '-r', 'north.gov'));
    await ok(coturn('-g', '-b', db, '-r', 'north.gov', '--max-bps', '64000', '--user-quota', '3'));
    expect(await ok(turnpike('-l', '-b', db))).toEqual(['alice[north.gov]', 'bob[south.gov]']);
    for (const command of ['-l', '-L', '-S', '-I', '-G']) {
      expect(await ok(turnpike(command, '-b', db)), command).toEqual(await ok(coturn(command, '-b', db)));
    }
    expect(await ok(turnpike('-S', '-b', db))).toEqual(['sharedsecret[north.gov]']);
  });

  it("coturn's turnadmin lists what Turnpike's wrote, the same as Turnpike lists it", async () => {
    const db = path.join(dir, 'by-turnpike.db');
    await ok(turnpike('-a', '-b', db, '-u', 'carol', '-r', 'north.gov', '-p', 'pw1'));
    await ok(turnpike('-a', '-b', db, '-u', 'dave', '-r', 'east.gov', '-p', 'pw2'));
    await ok(turnpike('-A', '-b', db, '-u', 'ops', '-r', 'north.gov', '-p', 'adminpw'));
    await ok(turnpike('-s', 's1', '-b', db, '-r', 'north.gov'));
    await ok(turnpike('-O', '-b', db, '-o', 'HTTP://App.Example/x', '-r', 'north.gov'));
    await ok(turnpike('-g', '-b', db, '-r', 'east.gov', '--total-quota', '100'));
    expect(await ok(coturn('-l', '-b', db))).toEqual(['dave[east.gov]', 'carol[north.gov]']);
    for (const command of ['-l', '-L', '-S', '-I', '-G']) {
      expect(await ok(coturn(command, '-b', db)), command).toEqual(await ok(turnpike(command, '-b', db)));
    }
  });

  it('both print the same -k key, and only the key on stdout', async () => {
    const args = ['-k', '-u', 'ninefingers', '-r', 'north.gov', '-p', 'youhavetoberealistic'];
    const theirs = await coturn(...args);
    const ours = await turnpike(...args);
    expect(theirs.lines).toEqual(['0xbc807ee29df3c9ffa736523fb2c4e8ee']);
    expect(ours.stdout).toBe('0xbc807ee29df3c9ffa736523fb2c4e8ee\n');
    expect(theirs.stdout).toMatch(/^0xbc807ee29df3c9ffa736523fb2c4e8ee\n0: : /); // coturn adds its log lines
  });

  it("Turnpike verifies coturn's -P output, and writes the same form", async () => {
    const [theirs = ''] = await ok(coturn('-P', '-p', 'hello'));
    const [ours = ''] = await ok(turnpike('-P', '-p', 'hello'));
    expect(theirs).toMatch(/^\$5\$[0-9a-f]{16}\$[0-9a-f]{64}$/);
    expect(ours).toMatch(/^\$5\$[0-9a-f]{16}\$[0-9a-f]{64}$/);
    expect(verifyEncryptedPassword('hello', theirs)).toBe(true);
    expect(verifyEncryptedPassword('hellO', theirs)).toBe(false);
  });
});

describe("coturn's turnserver on a database written by Turnpike's turnadmin", () => {
  let peer: PeerHandle;
  beforeAll(async () => {
    peer = await startPeer();
  });

  /** coturn's turnserver on `db`; startCoturn's own --userdb comes first, so ours is the one used. */
  async function coturnOn(db: string, realm: string, extra: string[] = []) {
    const port = await freeUdpTcpPort(HOST);
    const minPort = await freePortRange(HOST, 20);
    return startCoturn([
      '--listening-ip', HOST, '--listening-port', String(port),
      '--relay-ip', HOST, '--min-port', String(minPort), '--max-port', String(minPort + 19),
      '--userdb', db, '--realm', realm, '--allow-loopback-peers', '--no-cli', ...extra,
    ]);
  }

  it('a user added with Turnpike\'s turnadmin -a allocates and relays through coturn', async () => {
    const db = path.join(dir, 'for-coturn-server.db');
    await ok(turnpike('-a', '-b', db, '-u', 'erin', '-r', 'relay.example', '-p', 'erins-password'));
    const server = await coturnOn(db, 'relay.example', ['--lt-cred-mech']);
    try {
      const load = { host: HOST, port: server.port, noRtcp: true, clients: 2, messages: 20, peerAddr: peer.host, peerPort: peer.port };
      const r = await runUclient({ ...load, user: 'erin', password: 'erins-password', timeoutMs: 30_000 });
      expect(r.exitCode, `${r.output}\n--- coturn log ---\n${server.readLog()}`).toBe(0);
      expect(r.sent).toBe(40);
      expect(r.received).toBe(r.sent);
      expect(r.lostPackets).toBe(0);
      const wrong = await runUclient({ ...load, clients: 1, messages: 1, user: 'erin', password: 'wrong', timeoutMs: 15_000 });
      expect(wrong.allocationFailed, wrong.output).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('a REST secret added with turnadmin -s signs `turnpike admin credentials` that coturn accepts', async () => {
    const db = path.join(dir, 'rest-secret.db');
    await ok(turnpike('-s', 'rest-secret-1', '-b', db, '-r', 'rest.example'));
    const creds = await ok(
      run(process.execPath, [TURNPIKE_JS, 'admin', 'credentials', '--user', 'frank', '--ttl', '600',
        '-n', '--use-auth-secret', '--userdb', db, '--realm', 'rest.example']),
    );
    const value = (label: string) => creds.find((l) => l.startsWith(`${label}: `))?.slice(label.length + 2) ?? '';
    const server = await coturnOn(db, 'rest.example', ['--use-auth-secret']);
    try {
      const r = await runUclient({
        host: HOST, port: server.port, noRtcp: true, clients: 2, messages: 20, peerAddr: peer.host, peerPort: peer.port,
        user: value('username'), password: value('password'), timeoutMs: 30_000,
      });
      expect(r.exitCode, `${r.output}\n--- coturn log ---\n${server.readLog()}`).toBe(0);
      expect(r.received).toBe(40);
      expect(r.lostPackets).toBe(0);
    } finally {
      await server.stop();
    }
  });
});
