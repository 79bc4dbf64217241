/** One live allocation as `turnpike admin sessions` shows it. */
import { formatTransportAddress } from '../stun/ip.js';
import type { Allocation } from '../turn/allocation.js';
import type { SessionReport } from './server-control.js';

const seconds = (ms: number): number => Math.max(0, Math.round(ms / 1000));

export function sessionReport(allocation: Allocation, now: number): SessionReport {
  const { session } = allocation;
  return {
    id: allocation.id,
    user: allocation.username,
    realm: allocation.realm,
    transport: session.transport,
    client: formatTransportAddress(session.remote),
    server: formatTransportAddress(session.local),
    relays: allocation.relayAddresses.map(formatTransportAddress),
    ageSeconds: seconds(now - allocation.createdAt),
    expiresInSeconds: seconds(allocation.expiresAt - now),
    permissions: allocation.permissionCount,
    channels: allocation.channelCount,
    bytesFromClient: allocation.bytesFromClient,
    bytesToClient: allocation.bytesToClient,
    packetsFromClient: allocation.packetsFromClient,
    packetsToClient: allocation.packetsToClient,
  };
}
