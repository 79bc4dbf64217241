// The readiness wait that tests and the relay bench start servers with (startTurnpike): a port
// found free can be taken by another process before the server binds it, and if that process
// answers, the server must not be taken for ready. Seen once in the relay bench: its TLS row
// got "connection refused" from a Turnpike that had failed to start (empty log at the time).
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { makeCertificate } from '../support/certs.js';
import { freePortRange, freeUdpTcpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { udpPortHeldOnlyBy } from '../support/proc-net-udp.js';
import { startTurnpike } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
const certificate = makeCertificate();
afterAll(() => certificate.remove());
afterEach(stopAllProcesses);

/** A UDP socket of this process on host:port that echoes every datagram, as turnutils_peer does. */
async function echoOn(port: number): Promise<dgram.Socket> {
  const echo = dgram.createSocket('udp4');
  echo.on('message', (data, from) => echo.send(data, from.port, from.address));
  await new Promise<void>((resolve) => echo.bind(port, HOST, () => resolve()));
  return echo;
}

/** Turnpike as the bench's TLS row starts it: UDP and TLS, no plain TCP, no DTLS. */
async function tlsRowArgs(port: number, tlsPort: number): Promise<string[]> {
  const minPort = await freePortRange(HOST, 100);
  return ['-n', '--listening-ip', HOST, '--listening-port', String(port), '--tls-listening-port', String(tlsPort),
    '--relay-ip', HOST, '--min-port', String(minPort), '--max-port', String(minPort + 99), '--no-tcp', '--no-dtls',
    '--cert', certificate.cert, '--pkey', certificate.key];
}

const connects = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, HOST, () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

describe('startTurnpike readiness', () => {
  it('is not fooled by another process answering on the listening port: the failed start is reported', async () => {
    const [port, tlsPort] = [await freeUdpTcpPort(HOST), await freeUdpTcpPort(HOST)];
    const squatter = await echoOn(port);
    try {
      await expect(startTurnpike(await tlsRowArgs(port, tlsPort), HOST, port)).rejects.toThrow(/exited before it was ready[\s\S]*cannot start: UDP 127\.0\.0\.1:\d+ is already in use/);
    } finally {
      squatter.close();
    }
  }, 40_000);

  it('resolves for the server it started, whose TLS port then accepts', async () => {
    const [port, tlsPort] = [await freeUdpTcpPort(HOST), await freeUdpTcpPort(HOST)];
    const server = await startTurnpike(await tlsRowArgs(port, tlsPort), HOST, port);
    expect(udpPortHeldOnlyBy(server.pid, HOST, port)).toBe(true);
    expect(await connects(tlsPort)).toBe(true);
  }, 40_000);
});

describe('udpPortHeldOnlyBy', () => {
  it('tells this process\'s socket from nobody\'s and from another process\'s', async () => {
    const port = await freeUdpTcpPort(HOST);
    expect(udpPortHeldOnlyBy(process.pid, HOST, port)).toBe(false); // nobody
    const echo = await echoOn(port);
    try {
      expect(udpPortHeldOnlyBy(process.pid, HOST, port)).toBe(true);
      expect(udpPortHeldOnlyBy(process.ppid, HOST, port)).toBe(false); // held, but not by that process
    } finally {
      echo.close();
    }
  });

  it('counts a socket on the wildcard address, which host:port datagrams reach too', async () => {
    const port = await freeUdpTcpPort(HOST);
    const wildcard = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => wildcard.bind(port, '0.0.0.0', () => resolve()));
    try {
      expect(udpPortHeldOnlyBy(process.pid, HOST, port)).toBe(true);
      expect(udpPortHeldOnlyBy(process.ppid, HOST, port)).toBe(false);
    } finally {
      wildcard.close();
    }
  });
});
