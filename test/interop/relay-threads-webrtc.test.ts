// Headless Chromium's WebRTC stack through `turnpike serve --relay-threads 2`: two relay-only
// RTCPeerConnections echo data-channel messages over TURN/UDP, TURN/TCP and TURNS, their
// allocations held by the relay workers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificate, type TestCertificate } from '../support/certs.js';
import { stopAllProcesses } from '../support/processes.js';
import { startSecureTurnpike, type TurnpikeHandle } from '../support/turnpike-process.js';
import { openRelayEchoPage, type RelayEchoBrowser } from './webrtc/relay-echo-browser.js';

const MESSAGES = 200;
// A bound on a stuck run, not an expectation of speed.
const TIMEOUT_MS = 20_000;

interface EchoResult {
  echoed: number;
  inOrder?: boolean;
  error?: string;
  pairs?: Record<'a' | 'b', { local: { candidateType?: string }; remote: { candidateType?: string } } | undefined>;
}

let certificate: TestCertificate;
let server: TurnpikeHandle;
let tlsPort: number;
let browser: RelayEchoBrowser;

beforeAll(async () => {
  certificate = makeCertificate('localhost');
  // TCP relaying (RFC 6062) is refused with more than one thread until it works across workers.
  ({ server, tlsPort } = await startSecureTurnpike(certificate, 'webrtc.example', ['--relay-threads', '2', '--no-dtls']));
  await server.proc.waitForOutput(/relaying with 2 worker threads/, 10_000);
  browser = await openRelayEchoPage();
});
afterAll(async () => {
  await browser?.close();
  await stopAllProcesses();
  certificate?.remove();
});

describe('Chromium relay-only data channel through relay-threads=2', () => {
  it.each([
    ['udp', () => `turn:127.0.0.1:${server.port}?transport=udp`],
    ['tcp', () => `turn:127.0.0.1:${server.port}?transport=tcp`],
    ['tls', () => `turns:127.0.0.1:${tlsPort}?transport=tcp`],
  ])(`echoes ${MESSAGES} messages over %s, both ends allocated by relay workers`, async (_transport, url) => {
    const from = server.proc.output.length;
    const iceServers = [{ urls: url(), username: 'alice', credential: 'secret' }];
    const r = await browser.call<EchoResult>('relayEcho', { iceServers, messages: MESSAGES, timeoutMs: TIMEOUT_MS });
    const detail = JSON.stringify(r, null, 1);
    expect(r.error, detail).toBeUndefined();
    expect(r.echoed, detail).toBe(MESSAGES);
    expect(r.inOrder, detail).toBe(true);
    for (const side of ['a', 'b'] as const) {
      expect(r.pairs?.[side]?.local.candidateType, detail).toBe('relay');
      expect(r.pairs?.[side]?.remote.candidateType, detail).toBe('relay');
    }
    // One allocation per peer connection (at least), each logged by the worker holding it.
    const created = server.proc.output.slice(from).match(/relay worker \d+: allocation \d+ created/g) ?? [];
    expect(created.length, server.proc.output.slice(from)).toBeGreaterThanOrEqual(2);
  });
});
