// The engine asks its allocation ledger, here a LedgerClient whose answers come back over a
// real MessagePort from a LedgerServer, as a relay worker's engine will: each Allocate takes
// exactly one lease, whatever arrives while the answer is on its way, and gives it back
// when no allocation comes of it or the allocation ends.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { AttributeType, Method, StunClass, type MessageBuilder } from '../../../src/stun/index.js';
import { LedgerClient, LedgerServer } from '../../../src/turn/ledger-port.js';
import { closeEngineHarnesses, engineHarness, type HarnessOptions } from '../../support/engine-harness.js';

const ports: MessagePort[] = [];
afterEach(() => {
  closeEngineHarnesses();
  ports.splice(0).forEach((p) => p.close());
});
const udp = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17);

/** A release is one message, not a round trip: the leases the server holds once it has arrived. */
async function leasesAfterRelease(server: LedgerServer, expected: number): Promise<number> {
  for (let i = 0; i < 100 && server.leases !== expected; i++) await new Promise((r) => setTimeout(r, 5));
  return server.leases;
}

/** An engine whose ledger is in a LedgerServer at the other end of a MessageChannel. */
async function engineWithPortLedger(options: HarnessOptions['options']) {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  const server = new LedgerServer();
  server.attach(1, port1);
  const t = await engineHarness({ options, ledger: new LedgerClient(port2) });
  return { t, server };
}

describe('engine and a ledger across a port', () => {
  it('user-quota 1: two Allocates of one user at once, exactly one allocation', async () => {
    const { t, server } = await engineWithPortLedger({ userQuota: 1 });
    const [a, b] = [t.client(), t.client()];
    await a.request(Method.Refresh); // learn nonces (437: no allocation yet)
    await b.request(Method.Refresh);
    const answers = await Promise.all([a.request(Method.Allocate, udp), b.request(Method.Allocate, udp)]);
    expect(answers.map((m) => m.cls).sort()).toEqual([StunClass.SuccessResponse, StunClass.ErrorResponse].sort());
    expect(answers.map((m) => t.code(m)).filter((c) => c !== undefined)).toEqual([486]);
    expect(t.engine.allocations.size).toBe(1);
    expect(server.leases).toBe(1);
  });

  it('an Allocate retransmitted while the ledger answers takes one lease and makes one allocation', async () => {
    const { t, server } = await engineWithPortLedger({});
    await t.request(Method.Refresh);
    const allocate = t.signed(Method.Allocate, udp);
    for (let i = 0; i < 3; i++) t.engine.handlePacket(t.session, allocate);
    await t.settled();
    expect(t.received(allocate).map((m) => m.cls)).toEqual([StunClass.SuccessResponse]);
    expect(t.engine.allocations.size).toBe(1);
    expect(server.leases).toBe(1);
  });

  it('a lease goes back when the relay cannot be had (508), and when the allocation ends', async () => {
    const { t, server } = await engineWithPortLedger({ userQuota: 1 });
    const unknownToken = (b: MessageBuilder) => udp(b).add(AttributeType.ReservationToken, Buffer.alloc(8, 7));
    expect(t.code(await t.request(Method.Allocate, unknownToken))).toBe(508);
    expect(await leasesAfterRelease(server, 0)).toBe(0);
    expect((await t.request(Method.Allocate, udp)).cls).toBe(StunClass.SuccessResponse);
    expect(server.leases).toBe(1);
    await t.request(Method.Refresh, (b) => b.addUint32(AttributeType.Lifetime, 0));
    expect(await leasesAfterRelease(server, 0)).toBe(0);
  });
});
