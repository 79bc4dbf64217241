// coturn's client over TCP and TLS against Turnpike, and OpenSSL's own TLS client.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttributeType, MessageBuilder, Method, StunClass, decodeMessage, readXorAddress } from '../../src/stun/index.js';
import { makeCertificate, type TestCertificate } from '../support/certs.js';
import { runUclient, startPeer, type PeerHandle } from '../support/coturn-tools.js';
import { stopAllProcesses } from '../support/processes.js';
import { startSecureTurnpike, type TurnpikeHandle } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
let certificate: TestCertificate;
let server: TurnpikeHandle;
let peer: PeerHandle;
let tlsPort: number;

beforeAll(async () => {
  certificate = makeCertificate();
  ({ server, tlsPort } = await startSecureTurnpike(certificate, 'tcp.example', ['--no-dtls']));
  peer = await startPeer();
});
afterAll(async () => {
  await stopAllProcesses();
  certificate.remove();
});

describe('turnutils_uclient over streams', () => {
  const load = { user: 'alice', password: 'secret', clients: 10, messages: 200, length: 120, noRtcp: true, timeoutMs: 45_000 };

  it.each([
    ['TCP (-t)', { tcp: true }, () => server.port],
    ['TLS (-t -S)', { tcp: true, secure: true }, () => tlsPort],
    ['TLS on the plain port (-t -S -p listening-port)', { tcp: true, secure: true }, () => server.port],
  ])('relays over %s with 0 lost', async (_name, mode, port) => {
    const r = await runUclient({ host: HOST, port: port(), ...load, ...mode, peerAddr: peer.host, peerPort: peer.port });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.sent).toBe(2000);
    expect(r.received).toBe(2000);
    expect(r.lostPackets).toBe(0);
  });
});

describe('the accept of a TLS-capable port', () => {
  it.runIf(process.platform === 'linux')('is native on listening-port and tls-listening-port alike, as the start log says', () => {
    // The clients above, plain and TLS on either port, were accepted by native/tcp-accept.c.
    for (const port of [server.port, tlsPort]) expect(server.proc.output).toContain(`listening on TCP/TLS ${HOST}:${port}, native accept`);
  });

  it.runIf(process.platform === 'linux')('hands TLS connections to native/tls-stream.c, as the start log says', () => {
    // The TLS clients above ran in C (docs/native-tls.md); TURNPIKE_TLS=node would say tls.TLSSocket.
    expect(server.proc.output).toContain("TLS connections: run in C with the node binary's OpenSSL (native/tls-stream.c)");
  });

  it.runIf(process.platform === 'linux')('runs plain TCP connections in C too (native/stream-conn.c), as the start log says', () => {
    // The -t and -T clients ran on the stream addon's connection layer; TURNPIKE_TCP=node would say net.Socket.
    expect(server.proc.output).toContain('plain TCP connections run in C (native/stream-conn.c)');
  });
});

describe('turnutils_uclient -T (RFC 6062 TCP relay)', () => {
  it('relays client to client through TCP allocations with 0 lost', async () => {
    // -T implies -t -y -c: the clients Connect to each other's TCP relay addresses.
    const r = await runUclient({ host: HOST, port: server.port, user: 'alice', password: 'secret', clients: 4, messages: 50, length: 100, extraArgs: ['-T'], timeoutMs: 45_000 });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.sent).toBe(200);
    expect(r.received).toBe(200);
    expect(r.lostPackets).toBe(0);
  });

  it('relays client to client through TCP allocations over TLS (-T -S) with 0 lost', async () => {
    // Control and data connections are TLS: the data connections carry raw peer bytes after ConnectionBind.
    const r = await runUclient({ host: HOST, port: tlsPort, user: 'alice', password: 'secret', clients: 4, messages: 50, length: 100, extraArgs: ['-T', '-S'], timeoutMs: 45_000 });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.sent).toBe(200);
    expect(r.received).toBe(200);
    expect(r.lostPackets).toBe(0);
  });
});

describe('openssl s_client', () => {
  it('completes a TLS handshake and gets a Binding answer', async () => {
    const request = new MessageBuilder(Method.Binding, StunClass.Request).build();
    const client = spawn('openssl', ['s_client', '-connect', `${HOST}:${tlsPort}`, '-quiet', '-alpn', 'stun.turn'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    client.stdout.on('data', (d: Buffer) => chunks.push(d));
    let stderr = '';
    client.stderr.on('data', (d: Buffer) => (stderr += d));
    try {
      // s_client reads stdin only after its handshake; the request waits in the pipe.
      client.stdin.write(request);
      for (let i = 0; i < 100 && Buffer.concat(chunks).length < 20; i++) await new Promise((r) => setTimeout(r, 50));
      const answer = Buffer.concat(chunks);
      expect(answer.length, stderr).toBeGreaterThanOrEqual(20);
      const message = decodeMessage(answer.subarray(0, 20 + answer.readUInt16BE(2)));
      expect(message.cls).toBe(StunClass.SuccessResponse);
      expect(readXorAddress(message, AttributeType.XorMappedAddress)?.address).toBe(HOST);
    } finally {
      client.kill();
    }
  });
});

describe('certificate reload on signals', () => {
  const servedName = async (): Promise<string> => {
    const socket = tls.connect({ host: HOST, port: tlsPort, rejectUnauthorized: false });
    await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const name = String(socket.getPeerCertificate().subject.CN);
    socket.destroy();
    return name;
  };
  const waitForName = async (expected: string): Promise<string> => {
    let name = '';
    for (let i = 0; i < 50 && name !== expected; i++) {
      name = await servedName();
      if (name !== expected) await new Promise((r) => setTimeout(r, 100));
    }
    return name;
  };

  it.each(['SIGUSR2', 'SIGHUP'] as const)('serves a new certificate after %s, with no restart', async (signal) => {
    const next = makeCertificate(`after-${signal.toLowerCase()}.example`);
    try {
      fs.copyFileSync(next.cert, certificate.cert);
      fs.copyFileSync(next.key, certificate.key);
      process.kill(server.pid, signal);
      expect(await waitForName(`after-${signal.toLowerCase()}.example`)).toBe(`after-${signal.toLowerCase()}.example`);
    } finally {
      next.remove();
    }
  });
});
