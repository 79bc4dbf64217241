// relayThreads > 1: a UDP client is pinned to the worker holding its allocation (its own
// connected socket) from its first request after the Allocate on. coturn's example scripts
// rely on it: uclient sends a Refresh the moment its Allocate is answered. Workers run from
// dist/ (built by pretest), so these tests need a fresh build.
import { describe, expect, it } from 'vitest';
import { AttributeType, MessageBuilder, Method, StunClass, decodeMessage, readErrorCode, type StunMessage } from '../../src/stun/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { ALICE } from '../support/server-options.js';
import { UdpTestClient } from '../support/turn-client.js';
import { relayThreadHelpers } from '../support/relay-threads.js';

const cleanups = cleanupAfterEach();
const { startThreaded } = relayThreadHelpers(cleanups);

const CLIENTS = 30;

/** A request signed with what the client learnt from its last challenge. */
function signed(client: UdpTestClient, builder: MessageBuilder): { id: Buffer; sealed: Buffer } {
  builder
    .addString(AttributeType.Username, client.credentials!.username)
    .addString(AttributeType.Realm, client.realm!)
    .addString(AttributeType.Nonce, client.nonce!);
  return { id: Buffer.from(builder.transactionId), sealed: builder.build({ integrityKey: client.key }) };
}

/**
 * Allocates, and sends a Refresh from the socket's first listener the moment the Allocate's
 * answer arrives, as uclient does; resolves to the Refresh's answer.
 */
async function allocateThenRefreshAtOnce(client: UdpTestClient): Promise<StunMessage> {
  // A Refresh without an allocation: its 401 teaches the nonce (its signed retry gets 437).
  await client.refresh(600);
  const allocate = signed(client, new MessageBuilder(Method.Allocate, StunClass.Request).addFirstByte(AttributeType.RequestedTransport, 17));
  const refresh = signed(client, new MessageBuilder(Method.Refresh, StunClass.Request).addUint32(AttributeType.Lifetime, 600));
  let refreshSent = false;
  let onMessage = (_data: Buffer): void => {};
  const refreshAnswer = new Promise<StunMessage>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer to the Refresh')), 5000);
    onMessage = (data) => {
      const id = data.subarray(8, 20);
      if (id.equals(allocate.id) && !refreshSent) {
        refreshSent = true;
        client.sendRaw(refresh.sealed);
      } else if (id.equals(refresh.id)) {
        clearTimeout(timer);
        resolve(decodeMessage(data));
      }
    };
    client.socket.prependListener('message', onMessage);
  });
  try {
    // Retransmitted as RFC 8489 says (500 ms) while unanswered.
    for (let attempt = 0; attempt < 3 && !refreshSent; attempt++) {
      client.sendRaw(allocate.sealed);
      await Promise.race([refreshAnswer, new Promise((r) => setTimeout(r, 500))]);
    }
    return await refreshAnswer;
  } finally {
    client.socket.off('message', onMessage);
  }
}

describe('relay threads: a client is pinned as soon as its Allocate is answered', () => {
  it('fresh clients refresh the moment their Allocate is answered (no 437), and each holds one allocation', async () => {
    const server = await startThreaded({ relayThreads: 3, listeningIps: ['::1'], relayIps: ['127.0.0.1'] });
    const clients: UdpTestClient[] = [];
    const refreshErrors: number[] = [];
    // One after another, as uclient allocates: each from a fresh port, so not pinned before.
    for (let i = 0; i < CLIENTS; i++) {
      const client = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
      cleanups.push(() => client.close());
      clients.push(client);
      const refreshed = await allocateThenRefreshAtOnce(client);
      if (refreshed.cls !== StunClass.SuccessResponse) refreshErrors.push(readErrorCode(refreshed, AttributeType.ErrorCode)?.code ?? 0);
    }
    expect(refreshErrors).toEqual([]);
    const counts = await server.workerAllocationCounts();
    expect(counts.reduce((a, b) => a + b, 0)).toBe(CLIENTS);

    // Every allocation ends with its client's Refresh 0: none was left on a second worker.
    for (const client of clients) expect((await client.refresh(0)).cls).toBe(StunClass.SuccessResponse);
    expect(await server.workerAllocationCounts()).toEqual([0, 0, 0]);
  }, 120_000);
});
