// proc-user / proc-group on the real process: started as root, it binds, then gives root up
// for good; when it cannot, it stops rather than serve as root.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Method, MessageBuilder, StunClass } from '../../src/stun/index.js';
import { freePortRange, freeUdpPort } from '../support/ports.js';
import { startProcess, stopAllProcesses } from '../support/processes.js';
import { ROOT, TURNPIKE_CLI, startTurnpike } from '../support/turnpike-process.js';
import { PEER_HOST, UdpTestClient, openPeer } from '../support/turn-client.js';
import { readLog, waitForLine } from '../support/log-lines.js';

const HOST = '127.0.0.1';
afterEach(() => stopAllProcesses());
beforeAll(() => expect(process.getuid!(), 'switching users needs a test run as root').toBe(0));

const stunOnly = (port: number) => ['-n', '--listening-ip', HOST, '--listening-port', String(port), '--no-tcp', '--no-tls', '--no-dtls'];

/** The "Uid:", "Gid:" and "Groups:" lines of /proc/PID/status, as numbers. */
function credentialsOf(pid: number): { uid: number[]; gid: number[]; groups: number[] } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const numbers = (key: string) => (new RegExp(`^${key}:(.*)$`, 'm').exec(status)?.[1] ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  return { uid: numbers('Uid'), gid: numbers('Gid'), groups: numbers('Groups') };
}

describe('proc-user and proc-group', () => {
  it('runs as nobody:nogroup (real, effective, saved and filesystem ids; no root groups) and still answers STUN', async () => {
    const port = await freeUdpPort(HOST);
    const server = await startTurnpike([...stunOnly(port), '--proc-user', 'nobody', '--proc-group', 'nogroup'], HOST, port);
    await server.proc.waitForOutput(/running as uid 65534/, 10_000);
    expect(credentialsOf(server.pid)).toEqual({ uid: [65534, 65534, 65534, 65534], gid: [65534, 65534, 65534, 65534], groups: [65534] });
    const client = await UdpTestClient.open({ address: HOST, port });
    const answer = await client.transact(new MessageBuilder(Method.Binding, StunClass.Request));
    await client.close();
    expect(answer.cls).toBe(StunClass.SuccessResponse);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  });

  it('keeps writing its log file, created as root, after a SIGHUP reload', async () => {
    const port = await freeUdpPort(HOST);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-privileges-'));
    const log = path.join(dir, 'turn.log');
    try {
      const logArgs = ['--log-file', log, '--simple-log', '--no-stdout-log'];
      const server = await startTurnpike([...stunOnly(port), '--proc-user', 'nobody', ...logArgs], HOST, port);
      await waitForLine(log, /running as uid 65534/);
      process.kill(server.pid, 'SIGHUP');
      await waitForLine(log, /configuration reloaded: nothing changed/);
      expect(readLog(log)).not.toMatch(/cannot write/);
      expect(await server.stop()).toEqual({ code: 0, signal: null });
      expect(readLog(log)).toMatch(/stopped/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes proc-user's primary group when proc-group is not set", async () => {
    const port = await freeUdpPort(HOST);
    const server = await startTurnpike([...stunOnly(port), '--proc-user', 'nobody'], HOST, port);
    await server.proc.waitForOutput(/running as uid 65534/, 10_000);
    expect(credentialsOf(server.pid).gid).toEqual([65534, 65534, 65534, 65534]);
  });

  it('exits 1 with the reason when the switch fails, instead of serving as root', async () => {
    const port = await freeUdpPort(HOST);
    const server = startProcess(process.execPath, [TURNPIKE_CLI, 'serve', ...stunOnly(port), '--proc-user', 'nobody', '--proc-group', 'no-such-group-here'], { cwd: ROOT });
    const exit = await server.exited;
    expect(exit.code, server.output).toBe(1);
    expect(server.output).toMatch(/ERROR: cannot drop privileges: .*no-such-group-here/);
  });

  it('still relays UDP after the switch: the listener serves the clients a per-session socket would', async () => {
    const port = await freeUdpPort(HOST);
    const minPort = await freePortRange(HOST, 10);
    const server = await startTurnpike(['-n', '--listening-ip', HOST, '--listening-port', String(port), '--no-tcp', '--no-tls', '--no-dtls',
      '--relay-ip', HOST, '--min-port', String(minPort), '--max-port', String(minPort + 9), '--lt-cred-mech', '--user', 'alice:secret',
      '--realm', 'proc.example', '--allow-loopback-peers', '--proc-user', 'nobody'], HOST, port);
    await server.proc.waitForOutput(/running as uid 65534/, 10_000);
    const client = await UdpTestClient.open({ address: HOST, port }, { username: 'alice', password: 'secret' });
    const peer = await openPeer(PEER_HOST);
    try {
      const relay = await client.allocateRelay();
      // The listening socket's reuse group belongs to root: the kernel refuses the new user's.
      await server.proc.waitForOutput(/no per-session sockets \(bind EADDRINUSE/, 5000);
      expect((await client.channelBind(0x4001, peer.address)).cls).toBe(StunClass.SuccessResponse);
      client.sendChannelData(0x4001, Buffer.from('out'));
      expect((await peer.next()).data.toString()).toBe('out');
      peer.socket.send('back', relay.port, relay.address);
      expect((await client.nextDatagram()).data.subarray(4).toString()).toBe('back');
    } finally {
      await client.close();
      peer.socket.close();
    }
  });
});
