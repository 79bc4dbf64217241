// Readiness as systemd judges it under Debian's coturn.service (Type=notify, NotifyAccess=main):
// the real server process, a notify socket that sees the sender's credentials as PID 1 does.
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemdNotifier } from '../../src/lifecycle/index.js';
import { Method, MessageBuilder, StunClass } from '../../src/stun/index.js';
import { startFakeNotifySocket, type FakeNotifySocket } from '../support/notify-socket.js';
import { freeUdpPort } from '../support/ports.js';
import { startProcess, stopAllProcesses } from '../support/processes.js';
import { ROOT, TURNPIKE_CLI, startTurnpike } from '../support/turnpike-process.js';
import { UdpTestClient } from '../support/turn-client.js';

const HOST = '127.0.0.1';
let notifySocket: FakeNotifySocket | undefined;
afterEach(async () => {
  await stopAllProcesses();
  await notifySocket?.close();
  notifySocket = undefined;
});

const stunOnly = (port: number) => ['-n', '--listening-ip', HOST, '--listening-port', String(port), '--no-tcp', '--no-tls', '--no-dtls', '-v'];
const isReady = (n: { message: string }) => n.message.split('\n').includes('READY=1');

describe('systemd readiness', () => {
  it('sends READY=1 from its own PID once listening and after dropping privileges, STOPPING=1 on SIGTERM', async () => {
    expect(process.getuid!(), 'proc-user needs a test run as root').toBe(0);
    notifySocket = await startFakeNotifySocket();
    const port = await freeUdpPort(HOST);
    const server = await startTurnpike([...stunOnly(port), '--proc-user', 'nobody', '--proc-group', 'nogroup'], HOST, port, {
      NOTIFY_SOCKET: notifySocket.path,
    });

    const ready = await notifySocket.next(isReady, 10_000, 'READY=1');
    // NotifyAccess=main: systemd accepts only the main PID, as the kernel reports it.
    expect(ready.pid).toBe(server.pid);
    // Sent by the unprivileged process, so after the switch.
    expect([ready.uid, ready.gid]).toEqual([65534, 65534]);
    expect(ready.message).toMatch(/^STATUS=serving STUN\/TURN on port \d+$/m);
    const client = await UdpTestClient.open({ address: HOST, port });
    const answer = await client.transact(new MessageBuilder(Method.Binding, StunClass.Request));
    await client.close();
    expect(answer.cls).toBe(StunClass.SuccessResponse);
    const log = server.proc.output;
    expect(log.indexOf('listening on UDP')).toBeGreaterThan(-1);
    expect(log.indexOf('listening on UDP')).toBeLessThan(log.indexOf('systemd notified: READY=1'));

    const exit = await server.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    await notifySocket.drain();
    const fromServer = notifySocket.received.filter((n) => n.pid === server.pid);
    expect(fromServer.map((n) => n.message.split('\n')[0])).toEqual(['READY=1', 'STOPPING=1']);
  });

  it('sends no READY=1 when a listener cannot bind', async () => {
    notifySocket = await startFakeNotifySocket();
    const port = await freeUdpPort(HOST);
    const squatter = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind({ port, address: HOST, exclusive: true }, resolve));
    try {
      const server = startProcess(process.execPath, [TURNPIKE_CLI, 'serve', ...stunOnly(port)], {
        cwd: ROOT,
        env: { ...process.env, NOTIFY_SOCKET: notifySocket.path },
      });
      const exit = await server.exited;
      expect(exit.code, server.output).toBe(1);
      await notifySocket.drain();
      expect(notifySocket.received.filter((n) => n.pid === server.pid)).toEqual([]);
    } finally {
      squatter.close();
    }
  });

  it('falls back to systemd-notify without the addon, and warns that NotifyAccess=all is then needed', async () => {
    notifySocket = await startFakeNotifySocket();
    const warnings: string[] = [];
    const logger = { error: (m: string) => warnings.push(m), warn: (m: string) => warnings.push(m), info() {}, verbose() {}, debug() {} };
    const notifier = new SystemdNotifier(logger, notifySocket.path, () => null);
    await notifier.ready('test');
    const ready = await notifySocket.next(isReady, 10_000, 'READY=1 through systemd-notify');
    expect(ready.message).toBe('READY=1\nSTATUS=test');
    expect(warnings).toEqual([expect.stringContaining('NotifyAccess=all')]);
  });
});
