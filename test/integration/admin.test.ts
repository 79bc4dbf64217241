// The admin interface as operators use it: a real Turnpike process with its admin socket and
// HTTP port, real clients relaying over UDP and TCP, and `turnpike admin` run as a command.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionReport } from '../../src/control/index.js';
import { AttributeType, Method, StunClass, readErrorCode, type StunMessage, type TransportAddress } from '../../src/stun/index.js';
import { freePortRange, freeTcpPort, freeUdpTcpPort } from '../support/ports.js';
import { startProcess, stopAllProcesses } from '../support/processes.js';
import { StreamTestClient } from '../support/stream-client.js';
import { UdpTestClient, openPeer, type Credentials } from '../support/turn-client.js';
import { TURNPIKE_CLI, startTurnpike, type TurnpikeHandle } from '../support/turnpike-process.js';
import { readLog, waitForLine } from '../support/log-lines.js';
import { cleanupAfterEach } from '../support/cleanups.js';

const HOST = '127.0.0.1';
const REALM = 'admin.example';
const ALICE: Credentials = { username: 'alice', password: 'alice-Pa55' };
const BOB: Credentials = { username: 'bob', password: 'bob-Pa55' };
const CAROL: Credentials = { username: 'carol', password: 'carol-Pa55' };
const TOKEN = randomBytes(24).toString('hex');

let dir: string;
let server: TurnpikeHandle;
let listener: TransportAddress;
let socketPath: string;
let adminUrl: string;
let tokenFile: string;
let log: string;

/** Turnpike with users alice, bob and carol, TCP and UDP, logging to a file, and `extra` admin flags. */
async function startServer(folder: string, extra: string[]): Promise<{ server: TurnpikeHandle; log: string }> {
  const port = await freeUdpTcpPort(HOST);
  const minPort = await freePortRange(HOST, 50);
  const logFile = path.join(folder, 'turn.log');
  const started = await startTurnpike(
    [
      '-n', '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST,
      '--min-port', String(minPort), '--max-port', String(minPort + 49), '--realm', REALM, '--lt-cred-mech',
      ...[ALICE, BOB, CAROL].flatMap((u) => ['--user', `${u.username}:${u.password}`]),
      '--allow-loopback-peers', '--no-tls', '--no-dtls', '--log-file', logFile, '--simple-log', '--no-stdout-log', ...extra,
    ],
    HOST,
    port,
  );
  // The admin interface starts once the relay answers: wait for the last line it logs.
  await waitForLine(logFile, /admin interface (at http|on unix socket)/);
  return { server: started, log: logFile };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-admin-'));
  socketPath = path.join(dir, 'admin.sock');
  tokenFile = path.join(dir, 'admin-token');
  fs.writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const adminPort = await freeTcpPort(HOST);
  adminUrl = `http://${HOST}:${adminPort}`;
  ({ server, log } = await startServer(dir, ['--admin-socket', socketPath, '--admin-port', String(adminPort), '--admin-token-file', tokenFile]));
  await waitForLine(log, /admin interface at http/);
  listener = { family: 4, address: HOST, port: server.port };
});

afterAll(async () => {
  await stopAllProcesses();
  fs.rmSync(dir, { recursive: true, force: true });
});

const cleanups = cleanupAfterEach();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `turnpike admin ARGS` as a command, with no admin token in its environment unless given. */
async function admin(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const { TURNPIKE_ADMIN_TOKEN: _ignored, ...inherited } = process.env;
  const proc = startProcess(process.execPath, [TURNPIKE_CLI, 'admin', ...args], { cwd: dir, env: { ...inherited, ...env } });
  const { code } = await proc.exited;
  return { code, stdout: proc.stdout, stderr: proc.stderr };
}

/** `turnpike admin ARGS --json` over the socket, parsed; fails on a non-zero exit. */
async function adminJson<T>(args: string[]): Promise<T> {
  const run = await admin([...args, '--json', '--socket', socketPath]);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}


/** A UDP client with a relay and a permission for a peer, proven by one relayed datagram. */
async function relayingUdpClient(credentials: Credentials): Promise<{ client: UdpTestClient; relay: TransportAddress; clientAddress: string }> {
  const client = await UdpTestClient.open(listener, credentials);
  cleanups.push(() => client.close());
  const peer = await openPeer();
  cleanups.push(() => new Promise<void>((r) => peer.socket.close(() => r())));
  const relay = await client.allocateRelay();
  expect((await client.createPermission(peer.address)).cls).toBe(StunClass.SuccessResponse);
  client.sendIndication(peer.address, Buffer.from('through the relay'));
  expect((await peer.next()).data.toString()).toBe('through the relay');
  return { client, relay, clientAddress: `${HOST}:${client.socket.address().port}` };
}

/** A TCP client with an allocation. */
async function tcpClient(credentials: Credentials): Promise<{ client: StreamTestClient; clientAddress: string }> {
  const client = await StreamTestClient.open(listener, { credentials });
  cleanups.push(() => client.close());
  const response = await client.request(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17));
  expect(response.cls).toBe(StunClass.SuccessResponse);
  return { client, clientAddress: `${HOST}:${client.socket.localPort}` };
}

const errorCodeOf = async (response: Promise<StunMessage>) => readErrorCode(await response, AttributeType.ErrorCode)?.code;

/** Whether a UDP port can be bound: a closed relay gives its port back. */
function udpPortIsFree(address: TransportAddress): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind({ address: address.address, port: address.port, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

/** Local addresses of TCP sockets listening on `port`, from the kernel's own table. */
function tcpListeners(port: number): string[] {
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readLog(table).split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      const [hexAddress, hexPort] = (local ?? '').split(':');
      if (state !== '0A' || parseInt(hexPort ?? '', 16) !== port) continue;
      // IPv4 is one little-endian word; IPv6 is left in hex (only its presence matters here).
      found.push(hexAddress?.length === 8 ? (hexAddress.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)).join('.') : `ipv6:${hexAddress}`);
    }
  }
  return found;
}

describe('turnpike admin against a running server', () => {
  it('lists live UDP and TCP sessions with their user, transport and client address', async () => {
    const alice = await relayingUdpClient(ALICE);
    const bob = await tcpClient(BOB);

    const table = await admin(['sessions', '--socket', socketPath]);
    expect(table.code, table.stderr).toBe(0);
    const [header, ...rows] = table.stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+USER\s+REALM\s+TRANSPORT\s+CLIENT\s+RELAYS/);
    const rowOf = (client: string) => rows.find((r) => r.split(/\s+/).includes(client));
    expect(rowOf(alice.clientAddress)).toMatch(new RegExp(`^\\d+\\s+alice\\s+${REALM}\\s+udp\\s+${alice.clientAddress}\\s+${HOST}:${alice.relay.port}\\s`));
    expect(rowOf(bob.clientAddress)).toMatch(new RegExp(`^\\d+\\s+bob\\s+${REALM}\\s+tcp\\s+${bob.clientAddress}\\s`));

    const bobs = await adminJson<SessionReport[]>(['sessions', '--user', 'bob']);
    expect(bobs.map((s) => s.user)).toEqual(['bob']);
    expect(bobs[0]).toMatchObject({ transport: 'tcp', client: bob.clientAddress, realm: REALM, server: `${HOST}:${server.port}` });
    expect(bobs[0]?.relays).toHaveLength(1);

    // The same over HTTP with the token, and found through the configuration file.
    const overHttp = await admin(['sessions', '--json', '--url', adminUrl, '--token', TOKEN]);
    expect(overHttp.code, overHttp.stderr).toBe(0);
    const aliceOverHttp = (JSON.parse(overHttp.stdout) as SessionReport[]).find((s) => s.client === alice.clientAddress);
    expect(aliceOverHttp).toMatchObject({ user: 'alice', transport: 'udp', permissions: 1, relays: [`${HOST}:${alice.relay.port}`] });
    expect(aliceOverHttp?.bytesFromClient).toBe('through the relay'.length);
    const conf = path.join(dir, 'client.conf');
    fs.writeFileSync(conf, `admin-port=${new URL(adminUrl).port}\nadmin-token-file=${tokenFile}\n`);
    const viaConfig = await admin(['sessions', '--json', '-c', conf]);
    expect(viaConfig.code, viaConfig.stderr).toBe(0);
    expect((JSON.parse(viaConfig.stdout) as SessionReport[]).map((s) => s.client)).toContain(bob.clientAddress);

    await alice.client.refresh(0);
  });

  it('disconnect <id> ends a UDP session: its next Refresh gets 437 and its relay is closed', async () => {
    const alice = await relayingUdpClient(ALICE);
    const session = (await adminJson<SessionReport[]>(['sessions', '--user', 'alice'])).find((s) => s.client === alice.clientAddress);
    expect(session).toBeDefined();
    expect(await udpPortIsFree(alice.relay)).toBe(false);

    const run = await admin(['disconnect', String(session?.id), '--socket', socketPath]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`disconnected 1 session(s) of session ${session?.id}\n`);

    expect(await errorCodeOf(alice.client.refresh())).toBe(437);
    expect(await udpPortIsFree(alice.relay)).toBe(true);
    expect((await adminJson<SessionReport[]>(['sessions'])).map((s) => s.id)).not.toContain(session?.id);
    expect(readLog(log)).toMatch(new RegExp(`allocation ${session?.id} ended \\(disconnected by admin\\): user "alice"`));

    const again = await admin(['disconnect', String(session?.id), '--socket', socketPath]);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe(`no live session of session ${session?.id}\n`);
  });

  it('disconnect <user> ends every session of that user and closes its TCP connection', async () => {
    const udp = await relayingUdpClient(CAROL);
    const tcp = await tcpClient(CAROL);
    const closed = tcp.client.closed();

    const run = await admin(['disconnect', 'carol', '--url', adminUrl], { TURNPIKE_ADMIN_TOKEN: TOKEN });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('disconnected 2 session(s) of user carol\n');

    await closed;
    expect(await errorCodeOf(udp.client.refresh())).toBe(437);
    expect(await adminJson<SessionReport[]>(['sessions', '--user', 'carol'])).toEqual([]);
  });

  it('stats gives the counters and the live figures', async () => {
    const before = await adminJson<Record<string, number>>(['stats']);
    const alice = await relayingUdpClient(ALICE);
    const after = await adminJson<Record<string, number>>(['stats']);
    expect(after.allocationsCreated).toBe((before.allocationsCreated ?? 0) + 1);
    // One synchronous snapshot: live = created - released, whatever else ran.
    expect(after.allocations).toBe((after.allocationsCreated ?? 0) - (after.allocationsReleased ?? 0));
    expect(after['allocations.udp']).toBeGreaterThanOrEqual(1);
    expect(after.permissions).toBeGreaterThanOrEqual(1);
    expect(after.relayedToPeerPackets).toBe((before.relayedToPeerPackets ?? 0) + 1);
    expect(after.relayedToPeerBytes).toBe((before.relayedToPeerBytes ?? 0) + 'through the relay'.length);

    const table = await admin(['stats', '--socket', socketPath]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+VALUE\n/);
    expect(table.stdout).toMatch(/^allocationsCreated\s+\d+$/m);
    await alice.client.refresh(0);
  });

  it('loglevel shows the level and changes it: debug lines appear from then on', async () => {
    const debugLine = /DEBUG: admin request from unix socket: GET \/stats -> 200/g;
    expect((await admin(['loglevel', '--socket', socketPath])).stdout).toBe('log level: info\n');
    expect((await admin(['stats', '--socket', socketPath])).code).toBe(0);

    const set = await admin(['loglevel', 'debug', '--socket', socketPath]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe('log level: debug (was info)\n');
    expect(readLog(log)).toMatch(/INFO: log level changed from info to debug \(turnpike admin\)/);
    expect((await admin(['stats', '--socket', socketPath])).code).toBe(0);
    // Only the request after the change is in the log.
    expect(readLog(log).match(debugLine)).toHaveLength(1);

    expect((await admin(['loglevel', 'info', '--socket', socketPath])).stdout).toBe('log level: info (was debug)\n');
    const bad = await admin(['loglevel', 'loud', '--socket', socketPath]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Choices: "error", "warn", "info", "verbose", "debug"/);
  });

  it('refuses a missing or wrong token with 401, and the command exits 1', async () => {
    const wrong = await admin(['stats', '--url', adminUrl, '--token', 'not-the-token-at-all']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(`turnpike admin: ${adminUrl} refused the admin token (401)\n`);
    const wrongFromEnv = await admin(['sessions', '--url', adminUrl], { TURNPIKE_ADMIN_TOKEN: `${TOKEN}x` });
    expect(wrongFromEnv.code).toBe(1);

    expect((await fetch(`${adminUrl}/stats`)).status).toBe(401);
    expect((await fetch(`${adminUrl}/stats`, { headers: { Authorization: `Bearer ${TOKEN.slice(0, -1)}` } })).status).toBe(401);
    const right = await fetch(`${adminUrl}/stats`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(right.status).toBe(200);
    expect(await right.json()).toHaveProperty('allocationsCreated');
    expect(readLog(log)).toMatch(/WARN: admin request from 127\.0\.0\.1:\d+: GET \/stats -> 401 \(missing or wrong token\)/);
  });

  it('says so and exits 1 when the server cannot be reached, 2 for a bad command line', async () => {
    const gone = await admin(['stats', '--socket', path.join(dir, 'nobody.sock')]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/cannot reach the admin interface at unix socket .*nobody\.sock: .*ENOENT/);
    expect((await admin(['disconnect', '--socket', socketPath])).code).toBe(2);
    expect((await admin(['stats', '--url', adminUrl])).code).toBe(2);
  });

  it("keeps coturn's turnadmin forms under turnpike admin", async () => {
    const key = await admin(['-k', '-u', 'alice', '-r', REALM, '-p', ALICE.password]);
    expect(key.code, key.stderr).toBe(0);
    expect(key.stdout).toMatch(/^0x[0-9a-f]{32}\n$/);
  });

  it('listens for HTTP on loopback only by default', () => {
    const port = Number(new URL(adminUrl).port);
    expect(tcpListeners(port)).toEqual([HOST]);
  });
});

describe('the admin socket', () => {
  it('is created mode 0600, replaces the socket a killed server left, and is removed at stop', async () => {
    expect(fs.statSync(socketPath).isSocket()).toBe(true);
    expect(fs.statSync(socketPath).mode & 0o777).toBe(0o600);

    const folder = fs.mkdtempSync(path.join(dir, 'stale-'));
    const sock = path.join(folder, 'admin.sock');
    const first = await startServer(folder, ['--admin-socket', sock]);
    first.server.proc.child.kill('SIGKILL');
    await first.server.proc.exited;
    expect(fs.statSync(sock).isSocket()).toBe(true);
    const stale = await admin(['stats', '--socket', sock]);
    expect(stale.stderr).toMatch(/ECONNREFUSED/);

    fs.rmSync(first.log);
    const second = await startServer(folder, ['--admin-socket', sock]);
    expect((await admin(['stats', '--socket', sock])).code).toBe(0);
    expect(fs.statSync(sock).mode & 0o777).toBe(0o600);
    await second.server.stop();
    expect(second.server.proc.exitInfo?.code).toBe(0);
    expect(fs.existsSync(sock)).toBe(false);
  });
});

describe('reload and drain through turnpike admin', () => {
  it('reload reports what changed; drain refuses new allocations and the server exits when the last ends', async () => {
    const folder = fs.mkdtempSync(path.join(dir, 'drain-'));
    const sock = path.join(folder, 'admin.sock');
    const { server: own } = await startServer(folder, ['--admin-socket', sock]);
    const reload = await admin(['reload', '--json', '--socket', sock]);
    expect(reload.code, reload.stderr).toBe(0);
    // Started from flags only (-n): the same command line reads the same, so nothing changed.
    expect(JSON.parse(reload.stdout)).toMatchObject({ ok: true, applied: [], needsRestart: [] });

    const at = { family: 4 as const, address: HOST, port: own.port };
    const alice = await UdpTestClient.open(at, ALICE);
    cleanups.push(() => alice.close());
    expect((await alice.allocate()).cls).toBe(StunClass.SuccessResponse);
    const drain = await admin(['drain', '--json', '--socket', sock]);
    expect(drain.code, drain.stderr).toBe(0);
    expect(JSON.parse(drain.stdout)).toMatchObject({ draining: true, allocations: 1 });
    const newcomer = await UdpTestClient.open(at, BOB);
    cleanups.push(() => newcomer.close());
    expect(await errorCodeOf(newcomer.allocate())).toBe(403);
    expect((await alice.refresh(0)).cls).toBe(StunClass.SuccessResponse);
    expect(await own.proc.exited).toEqual({ code: 0, signal: null });
  });
});
