// The bench reruns a row that uclient 4.6.1 failed on its own channel-number collision
// (uclientChannelCollision, COTURN-TOOLS.md). It knows the collision by the line uclient prints,
// `channel bind: error %d (%s)` with the server's code and reason: here both servers are made
// to refuse a channel already bound to another peer, and their real answers must be recognised
// (while another refusal must not be).
import { afterEach, describe, expect, it } from 'vitest';
import { AttributeType, readErrorCode, type StunMessage } from '../../src/stun/index.js';
import { startCoturn, uclientChannelCollision } from '../support/coturn-tools.js';
import { freePortRange, freeUdpTcpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { UdpTestClient } from '../support/turn-client.js';
import { startTurnpike } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
const PEER = { family: 4, address: HOST } as const;

/** What uclient prints for an error answer to its ChannelBind (reason read as a C string). */
function uclientLine(answer: StunMessage): string {
  const error = readErrorCode(answer, AttributeType.ErrorCode);
  return `0: : channel bind: error ${error?.code} (${error?.reason.split('\0')[0]})\n`;
}

afterEach(() => stopAllProcesses());

describe.each(['turnpike', 'coturn'])('%s refusing a channel bound to another peer', (kind) => {
  it("answers what the bench takes for uclient's collision, and only that", async () => {
    const port = await freeUdpTcpPort(HOST);
    const minPort = await freePortRange(HOST, 10);
    const flags = ['--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST,
      '--min-port', String(minPort), '--max-port', String(minPort + 9), '--lt-cred-mech', '--user', 'alice:secret',
      '--realm', 'collision.example', '--allow-loopback-peers', '--no-tcp', '--no-tls', '--no-dtls', '--no-cli'];
    if (kind === 'coturn') await startCoturn(flags);
    else await startTurnpike(['-n', ...flags], HOST, port);
    const client = await UdpTestClient.open({ address: HOST, port }, { username: 'alice', password: 'secret' });
    try {
      await client.allocateRelay();
      // uclient's order: a random channel to the peer's port + 1, then a new one to the peer's port.
      const first = await client.channelBind(0x5123, { ...PEER, port: 40_001 });
      expect(readErrorCode(first, AttributeType.ErrorCode)).toBeUndefined();
      const collided = await client.channelBind(0x5123, { ...PEER, port: 40_000 });
      expect(readErrorCode(collided, AttributeType.ErrorCode)?.code).toBe(400);
      expect(uclientChannelCollision(uclientLine(collided))).toBeDefined();

      const outOfRange = await client.channelBind(0x3fff, { ...PEER, port: 40_002 });
      expect(readErrorCode(outOfRange, AttributeType.ErrorCode)?.code).toBe(400);
      expect(uclientChannelCollision(uclientLine(outOfRange))).toBeUndefined();
    } finally {
      await client.close();
    }
  });
});
