// The server seals and opens DTLS records with the native AES-GCM addon, says so once at start,
// and relays just the same on node:crypto when TURNPIKE_DTLS_AEAD=node:crypto forces it (as where
// the addon could not be built), in each relay worker thread; and the same without native UDP I/O.
// Likewise the handshake's X25519 and PRF: native, or node:crypto when TURNPIKE_DTLS_KEYS=node:crypto
// forces it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificate, type TestCertificate } from '../support/certs.js';
import { runUclient, startPeer, type PeerHandle } from '../support/coturn-tools.js';
import { stopAllProcesses } from '../support/processes.js';
import { startSecureTurnpike } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
// 4.6.1's client picks DTLS 1.0 at random unless told a DTLS 1.2 suite; the certificate is EC.
const DTLS12 = ['-F', 'ECDHE-ECDSA-AES128-GCM-SHA256'];
let certificate: TestCertificate;
let peer: PeerHandle;

beforeAll(async () => {
  certificate = makeCertificate();
  peer = await startPeer();
});
afterAll(async () => {
  await stopAllProcesses();
  certificate.remove();
});

const KEYS_FALLBACK = /native DTLS X25519 and PRF unavailable: TURNPIKE_DTLS_KEYS=node:crypto; using node:crypto/g;

describe.each([
  ['native AES-GCM, X25519 and PRF', {}, /DTLS records: native AES-GCM \(OpenSSL EVP, one context per key\)/g, 0],
  ['node:crypto', { TURNPIKE_DTLS_AEAD: 'node:crypto', TURNPIKE_DTLS_KEYS: 'node:crypto' },
    /native DTLS AES-GCM unavailable: TURNPIKE_DTLS_AEAD=node:crypto; using node:crypto/g, 1],
  // Without the UDP addon's send area (as where it could not be built), records leave by dgram.
  ['native AES-GCM over dgram sockets', { TURNPIKE_UDP_IO: 'dgram' }, /native UDP I\/O unavailable: TURNPIKE_UDP_IO=dgram; using dgram/g, 0],
])('DTLS with %s', (_name, env, startLine, keysFallbackLines) => {
  it('relays turnutils_uclient -S with 0 lost on two relay threads, and says which once at start', async () => {
    const { server, tlsPort } = await startSecureTurnpike(certificate, 'dtls-crypto.example', ['--relay-threads', '2'], env);
    try {
      const r = await runUclient({
        host: HOST, port: tlsPort, user: 'alice', password: 'secret', secure: true, noRtcp: true,
        clients: 4, messages: 50, length: 120, peerAddr: peer.host, peerPort: peer.port, extraArgs: DTLS12, timeoutMs: 45_000,
      });
      expect(r.exitCode, r.output).toBe(0);
      expect(r.output).toContain('method=DTLSv1.2');
      expect(r.received).toBe(200);
      expect(r.lostPackets).toBe(0);
      expect(server.proc.output.match(startLine), server.proc.output.slice(-3000)).toHaveLength(1);
      expect(server.proc.output.match(KEYS_FALLBACK) ?? []).toHaveLength(keysFallbackLines);
    } finally {
      await server.stop();
    }
  });
});
