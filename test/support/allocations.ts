// Allocating as a user against an in-process server, for the user-database tests: a client per
// attempt (closed after the test), and what the answer was.
import type { TurnServer } from '../../src/server.js';
import { AttributeType, StunClass, readErrorCode, type StunMessage } from '../../src/stun/index.js';
import type { Cleanups } from './cleanups.js';
import { UdpTestClient, type Credentials } from './turn-client.js';

export function allocationHelpers(cleanups: Cleanups) {
  async function clientOf(server: TurnServer, credentials: Credentials): Promise<UdpTestClient> {
    const c = await UdpTestClient.open(server.udpAddresses[0]!, credentials);
    cleanups.push(() => c.close());
    return c;
  }
  const allocateAs = async (server: TurnServer, credentials: Credentials): Promise<StunMessage> => (await clientOf(server, credentials)).allocate();
  return { clientOf, allocateAs };
}

/** Whether `check` comes true within `withinMs` (a client reconnects with a back-off). */
export async function eventually(check: () => Promise<boolean>, withinMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

export const succeeded = (m: StunMessage) => m.cls === StunClass.SuccessResponse;
export const errorCode = (m: StunMessage) => readErrorCode(m, AttributeType.ErrorCode)?.code;
