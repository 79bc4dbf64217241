// werift's ICE/TURN client (pure TypeScript, a stack nobody here wrote) through Turnpike:
// relay-only data channel echo over TURN/UDP, TURN/TCP and TURNS with a verified certificate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { weriftEcho } from './webrtc/werift-echo.js';
import { LONG_TERM, TRANSPORTS, restLogin, startTurnFixture, type TurnFixture } from '../support/webrtc-turn-server.js';

const MESSAGES = 200;
const TIMEOUT_MS = 20_000; // a bound on a stuck run

let fixture: TurnFixture;
beforeAll(async () => {
  fixture = await startTurnFixture();
});
afterAll(async () => {
  await fixture?.close();
});

describe('werift relay-only data channel through Turnpike', () => {
  const cases = TRANSPORTS.flatMap((t) => [
    [t, 'long-term', () => LONG_TERM] as const,
    [t, 'REST', () => restLogin()] as const,
  ]);

  it.each(cases)(`echoes ${MESSAGES} messages over %s with %s credentials`, async (transport, _kind, login) => {
    const { username, password } = login();
    const r = await weriftEcho(
      {
        url: fixture.url(transport),
        username,
        password,
        // Verified against the run's own certificate, not waved through.
        tlsOptions: { ca: fixture.certificatePem, servername: 'localhost' },
      },
      MESSAGES,
      TIMEOUT_MS,
    );
    const detail = JSON.stringify(r, null, 1);
    expect(r.echoed, detail).toBe(MESSAGES);
    expect(r.inOrder, detail).toBe(true);
    for (const side of [r.sides.a, r.sides.b]) {
      expect(side.localType, detail).toBe('relay');
      expect(side.remoteType, detail).toBe('relay');
      // werift retries a failed TURN/UDP over TCP silently: the transport is checked.
      expect(side.turnTransport, detail).toBe(transport);
      expect(fixture.isRelayAddress(side.local), detail).toBe(true);
      expect(fixture.isRelayAddress(side.remote), detail).toBe(true);
    }
  });
});
