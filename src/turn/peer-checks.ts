/** The checks CreatePermission and ChannelBind share for each XOR-PEER-ADDRESS. */
import type { TransportAddress } from '../stun/index.js';
import type { Allocation } from './allocation.js';
import type { EngineContext } from './engine-context.js';

export type PeerRefusal = { readonly code: 403 | 443; readonly reason: string };

/** `withPort`: the port matters too (a channel or a connection, not a permission). */
export function refusePeer(ctx: EngineContext, allocation: Allocation, peer: TransportAddress, withPort: boolean): PeerRefusal | undefined {
  if (!allocation.hasRelayFamily(peer.family)) return { code: 443, reason: 'Peer Address Family Mismatch' };
  const decision = ctx.peerPolicy.check(peer.address, withPort ? peer.port : undefined);
  if (decision.allowed) return undefined;
  ctx.logger.info(`403 for allocation ${allocation.id} of user "${allocation.username}": ${decision.rule}`);
  return { code: 403, reason: 'Forbidden IP' };
}
