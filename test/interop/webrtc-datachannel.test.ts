// libdatachannel/libjuice (through node-datachannel) through Turnpike: a relay-only data
// channel echo over TURN/UDP, the only TURN transport libjuice has. The calls run in a child
// process (webrtc/datachannel-process.ts): a close that deadlocks in libdatachannel cannot hang the run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataChannelProcess } from './webrtc/datachannel-process.js';
import type { DataChannelTurn } from './webrtc/datachannel-echo.js';
import { LONG_TERM, restLogin, startTurnFixture, type TurnFixture } from '../support/webrtc-turn-server.js';

const MESSAGES = 200;
const TIMEOUT_MS = 20_000; // a bound on a stuck run
// Another loopback address for the clients' sockets: the server and its relays are on
// 127.0.0.1, so the two clients can reach each other only through their relays.
const CLIENT_ADDRESS = '127.0.0.2';

let fixture: TurnFixture;
const calls = new DataChannelProcess();
const dataChannelEcho = (turn: DataChannelTurn, messages: number, timeoutMs: number) => calls.call({ turn, messages, timeoutMs });
beforeAll(async () => {
  fixture = await startTurnFixture();
});
afterAll(async () => {
  await calls.close();
  await fixture?.close();
});

describe('libdatachannel relay-only data channel through Turnpike', () => {
  it.each([
    ['long-term', () => LONG_TERM],
    ['REST', () => restLogin()],
  ] as const)(`echoes ${MESSAGES} messages over udp with %s credentials`, async (_kind, login) => {
    const r = await dataChannelEcho(
      { host: fixture.host, port: fixture.port('udp'), ...login(), bindAddress: CLIENT_ADDRESS },
      MESSAGES,
      TIMEOUT_MS,
    );
    const detail = JSON.stringify(r, null, 1);
    expect(r.echoed, detail).toBe(MESSAGES);
    expect(r.inOrder, detail).toBe(true);
    for (const pair of [r.pairs.a, r.pairs.b]) {
      expect(pair?.local.type, detail).toBe('relay');
      expect(pair?.remote.type, detail).toBe('relay');
      expect(fixture.isRelayAddress(pair?.local), detail).toBe(true);
      expect(fixture.isRelayAddress(pair?.remote), detail).toBe(true);
    }
  });
});

describe('libdatachannel through Turnpike with static users only (username anonymity offered)', () => {
  it(`echoes ${MESSAGES} messages over udp: libjuice answers the nonce cookie with USERHASH, which Turnpike resolves`, async () => {
    // No REST secrets and no database: every user can be found by USERHASH, so the nonce sets
    // "Username anonymity" and libjuice (RFC 8489 §9.2.5) sends USERHASH in place of USERNAME.
    const anonymity = await startTurnFixture({ useAuthSecret: false, staticAuthSecrets: [] });
    try {
      const r = await dataChannelEcho({ host: anonymity.host, port: anonymity.port('udp'), ...LONG_TERM, bindAddress: CLIENT_ADDRESS }, MESSAGES, TIMEOUT_MS);
      expect(r.echoed, JSON.stringify(r, null, 1)).toBe(MESSAGES);
    } finally {
      await anonymity.close();
    }
  });
});
