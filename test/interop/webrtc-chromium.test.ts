// Headless Chromium's own WebRTC stack through Turnpike: two relay-only RTCPeerConnections in
// one page echo data-channel messages over TURN/UDP, TURN/TCP and TURNS, and a wrong or
// expired credential surfaces as icecandidateerror 401 with no relay candidate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRelayEchoPage, type RelayEchoBrowser } from './webrtc/relay-echo-browser.js';
import { LONG_TERM, TRANSPORTS, restLogin, startTurnFixture, type Login, type Transport, type TurnFixture } from '../support/webrtc-turn-server.js';

const MESSAGES = 200;
// A bound on a stuck run, not an expectation of speed.
const TIMEOUT_MS = 20_000;

interface Candidate {
  candidateType?: string;
  type?: string;
  protocol: string;
  relayProtocol?: string;
  address: string;
  port: number;
}
interface EchoResult {
  log: Record<string, { candidates: Candidate[]; errors: unknown[] }>;
  sent: number;
  echoed: number;
  inOrder?: boolean;
  error?: string;
  pairs?: Record<'a' | 'b', { state: string; local: Candidate; remote: Candidate } | undefined>;
}
interface GatherResult {
  a: { candidates: Candidate[]; errors: { errorCode?: number; errorText?: string; url?: string }[] };
  error?: string;
}

let fixture: TurnFixture;
let browser: RelayEchoBrowser;

beforeAll(async () => {
  fixture = await startTurnFixture();
  browser = await openRelayEchoPage();
});
afterAll(async () => {
  await browser?.close();
  await fixture?.close();
});

const iceServers = (transport: Transport, login: Login) => [
  { urls: fixture.url(transport), username: login.username, credential: login.password },
];

const call = <T>(fn: string, args: object): Promise<T> => browser.call<T>(fn, args);

describe('Chromium relay-only data channel through Turnpike', () => {
  const cases = TRANSPORTS.flatMap((t) => [
    [t, 'long-term', () => LONG_TERM] as const,
    [t, 'REST', () => restLogin()] as const,
  ]);

  it.each(cases)(`echoes ${MESSAGES} messages over %s with %s credentials`, async (transport, _kind, login) => {
    const r = await call<EchoResult>('relayEcho', { iceServers: iceServers(transport, login()), messages: MESSAGES, timeoutMs: TIMEOUT_MS });
    const detail = JSON.stringify(r, null, 1);
    expect(r.error, detail).toBeUndefined();
    expect(r.echoed, detail).toBe(MESSAGES);
    expect(r.inOrder, detail).toBe(true);
    for (const side of ['a', 'b'] as const) {
      const pair = r.pairs?.[side];
      expect(pair?.local.candidateType, detail).toBe('relay');
      expect(pair?.remote.candidateType, detail).toBe('relay');
      // relayProtocol: how this side reached the TURN server.
      expect(pair?.local.relayProtocol, detail).toBe(transport);
      // Both ends are allocations on this server, not some other path.
      expect(fixture.isRelayAddress(pair?.local), detail).toBe(true);
      expect(fixture.isRelayAddress(pair?.remote), detail).toBe(true);
    }
  });
});

describe('Chromium with credentials the server refuses', () => {
  const cases = TRANSPORTS.flatMap((t) => [
    [t, 'a wrong password', () => ({ ...LONG_TERM, password: 'not-the-password' })] as const,
    [t, 'an expired REST username', () => restLogin(true)] as const,
  ]);

  it.each(cases)('over %s, %s gives icecandidateerror 401 and no relay candidate', async (transport, _what, login) => {
    const r = await call<GatherResult>('gatherRelay', { iceServers: iceServers(transport, login()), timeoutMs: TIMEOUT_MS });
    const detail = JSON.stringify(r, null, 1);
    expect(r.error, detail).toBeUndefined();
    expect(r.a.candidates.filter((c) => c.type === 'relay'), detail).toEqual([]);
    expect(r.a.errors.map((e) => e.errorCode), detail).toContain(401);
  });
});
