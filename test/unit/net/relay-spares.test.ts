// Relay sockets bound ahead (issue 14): both peers of a call allocate at once, and each finds a
// socket bound before its Allocate came, from a fresh server's first call on; binding one
// before the answer took an Allocate 676 µs against 401 (bench:setup, tracepoints).
import { afterEach, describe, expect, it } from 'vitest';
import { UdpRelays } from '../../../src/net/udp-relays.js';
import { silentLogger } from '../../../src/log/logger-interface.js';
import type { RelayRequest } from '../../../src/turn/relay.js';
import { freePortRange } from '../../support/ports.js';

const HOST = '127.0.0.1';
const PLAIN: RelayRequest = { family: 4, preferredAddress: HOST, evenPort: false, reserveNext: false };
const open: UdpRelays[] = [];
afterEach(() => open.splice(0).forEach((relays) => relays.close()));

async function relaysOf(ports: number): Promise<UdpRelays> {
  const minPort = await freePortRange(HOST, ports);
  const relays = new UdpRelays({ relayIps: [HOST], minPort, maxPort: minPort + ports - 1, externalIps: new Map() }, silentLogger);
  open.push(relays);
  return relays;
}

/** Until `relays` holds `count` sockets; a bound on a stuck bind, not an expectation of speed. */
async function holding(relays: UdpRelays, count: number): Promise<void> {
  for (let i = 0; i < 200 && relays.sockets.size !== count; i++) await new Promise((r) => setTimeout(r, 5));
  expect(relays.sockets.size).toBe(count);
}

describe('relay sockets bound ahead', () => {
  it('a fresh server holds two, and two Allocates at once both take one: no socket is bound until they are answered', async () => {
    const relays = await relaysOf(20);
    await holding(relays, 2);
    expect(relays.portUsage().inUse).toBe(0); // the spares count as free ports
    const boundAhead = new Set(relays.sockets);
    const [a, b] = await Promise.all([relays.open(PLAIN, () => {}), relays.open(PLAIN, () => {})]);
    expect([a.ok, b.ok]).toEqual([true, true]);
    expect(new Set(relays.sockets)).toEqual(boundAhead);
    await holding(relays, 4); // two in use, two new spares
    expect(relays.portUsage().inUse).toBe(2);
  });

  it('a range the spares fill still serves every port: EVEN-PORT gets one back from them', async () => {
    const relays = await relaysOf(2);
    await holding(relays, 2);
    const even = await relays.open({ ...PLAIN, evenPort: true }, () => {});
    expect(even.ok).toBe(true);
    const plain = await relays.open(PLAIN, () => {});
    expect(plain.ok).toBe(true);
    const none = await relays.open(PLAIN, () => {});
    expect(none).toEqual({ ok: false, reason: 'exhausted' });
  });
});
