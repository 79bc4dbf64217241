// user-quota and bps-capacity changed by a reload (SIGHUP's path, server.reconfigure): the
// allocations made keep their places, new Allocates see the new limits at once. The limits
// travel with each reservation to the ledger, so no message to it is needed on reload.
import { describe, expect, it } from 'vitest';
import { createTurnServer } from '../../src/server.js';
import { AttributeType, StunClass, readErrorCode, type StunMessage } from '../../src/stun/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { ALICE, testServerOptions } from '../support/server-options.js';
import { UdpTestClient } from '../support/turn-client.js';

const cleanups = cleanupAfterEach();
const refusal = (m: StunMessage) => readErrorCode(m, AttributeType.ErrorCode);

describe('quotas on reload', () => {
  it('a lowered user-quota or bps-capacity refuses the next Allocate, keeps the allocations made, and a raised one admits it', async () => {
    const options = await testServerOptions({ userQuota: 2, maxBps: 1000, bpsCapacity: 3000 });
    const server = await createTurnServer(options);
    cleanups.push(() => server.close());
    const client = async () => {
      const c = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
      cleanups.push(() => c.close());
      return c;
    };
    const [a, b, c] = [await client(), await client(), await client()];
    expect((await a.allocate()).cls).toBe(StunClass.SuccessResponse);
    expect((await b.allocate()).cls).toBe(StunClass.SuccessResponse);

    await server.reconfigure({ ...options, userQuota: 1 });
    expect(refusal(await c.allocate())).toEqual({ code: 486, reason: 'Allocation Quota Reached (user-quota)' });
    expect((await a.refresh()).cls).toBe(StunClass.SuccessResponse);
    expect((await b.refresh()).cls).toBe(StunClass.SuccessResponse);

    // 2 × 1000 B/s are reserved: a third does not fit in 2500.
    await server.reconfigure({ ...options, userQuota: 0, bpsCapacity: 2500 });
    expect(refusal(await c.allocate())).toEqual({ code: 486, reason: 'Allocation Quota Reached (bps-capacity)' });

    await server.reconfigure({ ...options, userQuota: 0, bpsCapacity: 3000 });
    expect((await c.allocate()).cls).toBe(StunClass.SuccessResponse);
  });
});
