// Running Turnpike as a service: SIGHUP reloads the configuration file without dropping a
// relay, a broken file is refused, SIGUSR1 drains, SIGTERM stops cleanly. A real process,
// configured by a real turnserver.conf, with real clients and peers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AttributeType, StunClass, readAddress, readErrorCode, type StunMessage } from '../../src/stun/index.js';
import { freePortRange, freeUdpTcpPort } from '../support/ports.js';
import { startProcess, stopAllProcesses } from '../support/processes.js';
import { PEER_HOST, UdpTestClient, openPeerUntilCleanup, type Credentials } from '../support/turn-client.js';
import { TURNPIKE_CLI, reloadFromFile, startTurnpikeFromFile, type TurnpikeFromFile, type TurnpikeHandle } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
const ALICE: Credentials = { username: 'alice', password: 'alice-Pa55' };
const BOB: Credentials = { username: 'bob', password: 'bob-Pa55' };
/** A peer address the reloaded rules deny (loopback is open to tests, this one then closed). */
const DENIED_LATER = '127.0.0.3';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await stopAllProcesses();
});

const code = (m: StunMessage) => readErrorCode(m, AttributeType.ErrorCode)?.code;

async function serveFromFile(extra: string[] = []): Promise<TurnpikeFromFile> {
  const port = await freeUdpTcpPort(HOST);
  const minPort = await freePortRange(HOST, 40);
  const lines = [
    `listening-ip=${HOST}`, `listening-port=${port}`, `relay-ip=${HOST}`, `min-port=${minPort}`, `max-port=${minPort + 39}`,
    'realm=reload.example', 'lt-cred-mech', `user=${ALICE.username}:${ALICE.password}`, 'allow-loopback-peers',
    'no-tcp', 'no-tls', 'no-dtls', ...extra,
  ];
  return startTurnpikeFromFile(cleanups, lines, HOST, port);
}

async function client(server: TurnpikeHandle, credentials: Credentials): Promise<UdpTestClient> {
  const c = await UdpTestClient.open({ address: server.host, port: server.port }, credentials);
  cleanups.push(() => c.close());
  return c;
}

const peer = (address = PEER_HOST) => openPeerUntilCleanup(cleanups, address);

/** Sends `count` ChannelData messages, one every `intervalMs`, calling `midway` halfway. */
async function stream(alice: UdpTestClient, channel: number, count: number, intervalMs: number, midway: () => Promise<void>): Promise<void> {
  for (let i = 0; i < count; i++) {
    if (i === count / 2) await midway();
    alice.sendChannelData(channel, Buffer.from(`message ${i}`));
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

describe('SIGHUP', () => {
  it('adds a user and changes a peer rule while a relay keeps flowing with 0 loss', async () => {
    const served = await serveFromFile();
    const { server } = served;
    const alice = await client(server, ALICE);
    const target = await peer();
    const laterDenied = await peer(DENIED_LATER);
    expect((await alice.allocate()).cls).toBe(StunClass.SuccessResponse);
    expect((await alice.channelBind(0x4000, target.address)).cls).toBe(StunClass.SuccessResponse);
    expect((await alice.createPermission(laterDenied.address)).cls).toBe(StunClass.SuccessResponse);
    const bobBefore = await client(server, BOB);
    expect(code(await bobBefore.allocate())).toBe(401);

    const sent = 300;
    await stream(alice, 0x4000, sent, 5, async () => {
      await reloadFromFile(served, [...served.lines, `user=${BOB.username}:${BOB.password}`, `denied-peer-ip=${DENIED_LATER}`], /configuration reloaded: user, denied-peer-ip/);
    });
    await expect.poll(() => target.received.length, { timeout: 3000 }).toBe(sent);
    expect(target.received.splice(0).map((d) => d.data.toString())).toEqual(Array.from({ length: sent }, (_, i) => `message ${i}`));

    // The new user allocates; the new rule refuses the peer, and took back its permission.
    const bob = await client(server, BOB);
    expect((await bob.allocate()).cls).toBe(StunClass.SuccessResponse);
    expect(code(await alice.createPermission(laterDenied.address))).toBe(403);
    alice.sendIndication(laterDenied.address, Buffer.from('after the reload'));
    alice.sendChannelData(0x4000, Buffer.from('still flowing'));
    expect((await target.next()).data.toString()).toBe('still flowing');
    expect(laterDenied.received).toHaveLength(0);
  });

  it('refuses a configuration that no longer loads, and serves on with the old one', async () => {
    const served = await serveFromFile();
    const { server } = served;
    const alice = await client(server, ALICE);
    const target = await peer();
    expect((await alice.allocate()).cls).toBe(StunClass.SuccessResponse);
    expect((await alice.createPermission(target.address)).cls).toBe(StunClass.SuccessResponse);

    await reloadFromFile(served, [...served.lines, `user=${BOB.username}:${BOB.password}`, 'max-bps=lots'], /reload refused, the running configuration stays: .*turnserver\.conf:\d+.*max-bps/);

    expect(code(await (await client(server, BOB)).allocate())).toBe(401);
    alice.sendIndication(target.address, Buffer.from('after a refused reload'));
    expect((await target.next()).data.toString()).toBe('after a refused reload');
    expect((await (await client(server, ALICE)).allocate()).cls).toBe(StunClass.SuccessResponse);
  });

  it('names the options that need a restart and keeps their old values', async () => {
    const served = await serveFromFile();
    const { server } = served;
    const moved = served.lines.map((l) => (l.startsWith('min-port=') ? `min-port=${Number(l.slice(9)) + 1}` : l));
    await reloadFromFile(served, moved, /changed but kept until a restart: min-port/);
    expect((await (await client(server, ALICE)).allocate()).cls).toBe(StunClass.SuccessResponse);
  });

  it('with relay workers, says the peer rules in force once, before "configuration reloaded"', async () => {
    const served = await serveFromFile(['relay-threads=2']);
    const from = served.server.proc.output.length;
    await reloadFromFile(served, [...served.lines, `denied-peer-ip=${DENIED_LATER}`], /configuration reloaded: denied-peer-ip/);
    // Give a worker's late line time to arrive, so one would be counted.
    expect((await (await client(served.server, ALICE)).allocate()).cls).toBe(StunClass.SuccessResponse);
    const reload = served.server.proc.output.slice(from);
    const rules = /peers in special-purpose ranges .*; denied-peer-ip 127\.0\.0\.3/g;
    expect(reload.match(rules)).toHaveLength(1);
    expect(reload.search(rules)).toBeLessThan(reload.indexOf('configuration reloaded'));
  });
});

describe('SIGUSR1 drain', () => {
  it('refuses new allocations with 403, serves the open one, and exits 0 when it ends', async () => {
    const { server } = await serveFromFile();
    const alice = await client(server, ALICE);
    const target = await peer();
    expect((await alice.allocate()).cls).toBe(StunClass.SuccessResponse);
    expect((await alice.createPermission(target.address)).cls).toBe(StunClass.SuccessResponse);

    process.kill(server.pid, 'SIGUSR1');
    await server.proc.waitForOutput(/draining: no new allocations; 1 still served/, 5000);
    const newcomer = await client(server, ALICE);
    const refused = await newcomer.allocate();
    expect(code(refused)).toBe(403);

    alice.sendIndication(target.address, Buffer.from('while draining'));
    expect((await target.next()).data.toString()).toBe('while draining');
    expect(server.proc.exitInfo).toBeNull();

    expect((await alice.refresh(0)).cls).toBe(StunClass.SuccessResponse);
    expect(await server.proc.exited).toEqual({ code: 0, signal: null });
    expect(server.proc.output).toMatch(/drained: stopping/);
  });

  it('sends new allocations to an alternate-server added by reload with 300 while draining', async () => {
    const served = await serveFromFile();
    const { server } = served;
    const alice = await client(server, ALICE);
    expect((await alice.allocate()).cls).toBe(StunClass.SuccessResponse);
    // Before taking a node out: point newcomers at another one, then drain.
    await reloadFromFile(served, [...served.lines, 'alternate-server=192.0.2.10:3479'], /configuration reloaded: alternate-server/);
    process.kill(server.pid, 'SIGUSR1');
    await server.proc.waitForOutput(/draining: no new allocations; 1 still served/, 5000);

    const redirected = await (await client(server, ALICE)).allocate();
    expect(code(redirected)).toBe(300);
    expect(readAddress(redirected, AttributeType.AlternateServer)).toEqual({ family: 4, address: '192.0.2.10', port: 3479 });
    expect((await alice.refresh(0)).cls).toBe(StunClass.SuccessResponse);
    expect(await server.proc.exited).toEqual({ code: 0, signal: null });
  });

  it('exits after drain-timeout when an allocation stays open', async () => {
    const { server } = await serveFromFile(['drain-timeout=1']);
    expect((await (await client(server, ALICE)).allocate()).cls).toBe(StunClass.SuccessResponse);
    process.kill(server.pid, 'SIGUSR1');
    expect(await server.proc.exited).toEqual({ code: 0, signal: null });
    expect(server.proc.output).toMatch(/drain timeout: 1 allocations still open are closed now/);
  });
});

describe('signals while starting', () => {
  it('keeps a SIGUSR1 sent before the server serves: no inspector opens, the drain runs once it is up', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-early-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const port = await freeUdpTcpPort(HOST);
    const minPort = await freePortRange(HOST, 10);
    const proc = startProcess(process.execPath, [
      TURNPIKE_CLI, 'serve', '-n', '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST,
      '--min-port', String(minPort), '--max-port', String(minPort + 9), '--no-tcp', '--no-tls', '--no-dtls',
    ]);
    // The first line is written before the listeners are bound.
    await proc.waitForOutput(/starting; configuration/, 10_000);
    process.kill(proc.pid, 'SIGUSR1');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.output).toMatch(/draining: no new allocations[\s\S]*drained: stopping/);
    expect(proc.output).not.toMatch(/Debugger listening/);
  });
});

describe('SIGTERM', () => {
  it('closes live allocations and exits 0', async () => {
    const { server } = await serveFromFile();
    expect((await (await client(server, ALICE)).allocate()).cls).toBe(StunClass.SuccessResponse);
    process.kill(server.pid, 'SIGTERM');
    expect(await server.proc.exited).toEqual({ code: 0, signal: null });
    expect(server.proc.output).toMatch(/allocation \d+ ended \(server stopping\)[\s\S]*stopped/);
  });
});
