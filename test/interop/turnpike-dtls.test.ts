// coturn's client and OpenSSL's over DTLS against Turnpike, and a flood of ClientHellos
// without cookies that must leave the server's memory where it was.
import { createSocket } from 'node:dgram';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttributeType, Method, StunClass, readXorAddress } from '../../src/stun/index.js';
import { makeCertificate, type TestCertificate } from '../support/certs.js';
import { runUclient, startPeer, type PeerHandle } from '../support/coturn-tools.js';
import { stopAllProcesses } from '../support/processes.js';
import { startSecureTurnpike, type TurnpikeHandle } from '../support/turnpike-process.js';
import { clientHelloDatagram, helloVerifyCookie } from '../unit/dtls/client-hello.js';
import { OpensslDtlsClient } from '../unit/dtls/openssl-dtls-client.js';

const HOST = '127.0.0.1';
let certificate: TestCertificate;
let server: TurnpikeHandle;
let peer: PeerHandle;
let tlsPort: number;

beforeAll(async () => {
  certificate = makeCertificate();
  ({ server, tlsPort } = await startSecureTurnpike(certificate, 'dtls.example'));
  peer = await startPeer(); // on 127.0.0.2: the server's own address is a peer only on relay ports
});
afterAll(async () => {
  await stopAllProcesses();
  certificate.remove();
});

// 4.6.1's client picks DTLS 1.0 at random unless told a DTLS 1.2 suite; the certificate is EC.
const DTLS12 = ['-F', 'ECDHE-ECDSA-AES128-GCM-SHA256'];

describe('turnutils_uclient -S (DTLS)', () => {
  it.each([
    ['tls-listening-port', () => tlsPort],
    ['listening-port (shared with plain UDP, as coturn)', () => server.port],
  ])('relays over DTLS on %s with 0 lost', async (_name, port) => {
    const r = await runUclient({
      host: HOST, port: port(), user: 'alice', password: 'secret', secure: true, noRtcp: true,
      clients: 5, messages: 100, length: 120, peerAddr: peer.host, peerPort: peer.port, extraArgs: DTLS12, timeoutMs: 45_000,
    });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toContain('method=DTLSv1.2');
    expect(r.sent).toBe(500);
    expect(r.received).toBe(500);
    expect(r.lostPackets).toBe(0);
  });
});

describe('openssl s_client -dtls1_2', () => {
  it('completes a handshake and gets a Binding answer', async () => {
    const client = OpensslDtlsClient.start(HOST, tlsPort);
    try {
      const answer = await client.request(Method.Binding);
      expect(answer.cls).toBe(StunClass.SuccessResponse);
      expect(readXorAddress(answer, AttributeType.XorMappedAddress)?.address).toBe(HOST);
    } finally {
      await client.end();
    }
  });
});

describe('a flood of ClientHellos without cookies', () => {
  const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${server.pid}/status`, 'utf8'))![1]);

  /**
   * Sends `count` cookieless ClientHellos, each with a fresh random, round-robin from 50
   * sockets (so state kept per 5-tuple would show too), paced in batches; bounded in count
   * and time. Returns how many HelloVerifyRequests came back.
   */
  async function flood(count: number): Promise<number> {
    let verifyRequests = 0;
    const sockets = await Promise.all(Array.from({ length: 50 }, async () => {
      const socket = createSocket('udp4');
      socket.on('message', (d) => void (helloVerifyCookie(d) && verifyRequests++));
      await new Promise<void>((r) => socket.bind(0, HOST, () => r()));
      return socket;
    }));
    const deadline = Date.now() + 20_000;
    for (let sent = 0; sent < count && Date.now() < deadline; sent += 200) {
      for (let i = 0; i < 200; i++) sockets[i % sockets.length]!.send(clientHelloDatagram({ recordSequence: sent + i }), tlsPort, HOST);
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 200)); // the last answers
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    return verifyRequests;
  }

  it('leaves memory flat, and the server serves a real DTLS client afterwards', async () => {
    await flood(20_000); // warms the heap up to its working size
    const before = rssKb();
    const answered = await flood(20_000);
    const after = rssKb();
    console.log(`DTLS ClientHello flood: RSS ${before} kB before, ${after} kB after; ${answered} HelloVerifyRequests came back`);
    expect(answered).toBeGreaterThan(1000);
    // State per ClientHello (a session and a key share, a few KB each) would add tens of MB.
    expect(after - before).toBeLessThan(8 * 1024);
    const client = OpensslDtlsClient.start(HOST, tlsPort);
    try {
      expect((await client.request(Method.Binding)).cls).toBe(StunClass.SuccessResponse);
    } finally {
      await client.end();
    }
  });
});
