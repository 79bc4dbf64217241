// Many idle allocations held from one process: one UDP socket (one 5-tuple) per allocation,
// each through the repo's own TURN client (401 challenge, then the authenticated Allocate
// asking for the longest lifetime), then one ChannelBind so that each also holds a channel
// and its permission. A bounded number are in flight at once, and the whole run is bounded
// in time; failures are counted, not thrown.
import { AttributeType, StunClass, readErrorCode, type TransportAddress } from '../src/stun/index.js';
import { UdpTestClient, type Credentials } from '../test/support/turn-client.js';

export interface IdleAllocationsRun {
  readonly server: { address: string; port: number };
  readonly credentials: Credentials;
  readonly count: number;
  readonly inFlight: number;
  /** The peer each allocation binds a channel to (nothing needs to listen there). */
  readonly peer: TransportAddress;
  /** Seconds asked for in LIFETIME: the longest, so that none expires during a run. */
  readonly lifetime: number;
  /** No new allocation is started past this; the ones in flight finish or time out. */
  readonly timeoutMs: number;
}

export interface IdleAllocations {
  /** Allocations made and holding a channel. */
  readonly made: number;
  readonly failures: number;
  /** The first few failures, to print. */
  readonly failureSamples: readonly string[];
  readonly ms: number;
  /** Closes every client socket (the allocations stay until they expire or the server stops). */
  close(): Promise<void>;
}

const FIRST_CHANNEL = 0x4000;
const SAMPLES = 5;

/** One allocation with a channel on its own socket; the error says which step failed. */
async function allocateWithChannel(client: UdpTestClient, run: IdleAllocationsRun): Promise<void> {
  const allocated = await client.allocate((b) => b.addFirstByte(AttributeType.RequestedTransport, 17).addUint32(AttributeType.Lifetime, run.lifetime));
  if (allocated.cls !== StunClass.SuccessResponse) throw new Error(`Allocate: ${JSON.stringify(readErrorCode(allocated, AttributeType.ErrorCode))}`);
  const bound = await client.channelBind(FIRST_CHANNEL, run.peer);
  if (bound.cls !== StunClass.SuccessResponse) throw new Error(`ChannelBind: ${JSON.stringify(readErrorCode(bound, AttributeType.ErrorCode))}`);
}

export async function holdIdleAllocations(run: IdleAllocationsRun): Promise<IdleAllocations> {
  const started = Date.now();
  const deadline = started + run.timeoutMs;
  const clients: UdpTestClient[] = [];
  const failureSamples: string[] = [];
  let made = 0;
  let failures = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < run.count && Date.now() < deadline) {
      next++;
      const client = await UdpTestClient.open(run.server, run.credentials);
      clients.push(client);
      try {
        await allocateWithChannel(client, run);
        made++;
      } catch (err) {
        failures++;
        if (failureSamples.length < SAMPLES) failureSamples.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(run.inFlight, run.count) }, worker));
  // Allocations never started because time ran out are failures too.
  failures += run.count - next;
  return {
    made,
    failures,
    failureSamples,
    ms: Date.now() - started,
    close: async () => {
      await Promise.all(clients.map((c) => c.close()));
    },
  };
}
