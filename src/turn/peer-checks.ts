/** The checks CreatePermission and ChannelBind share for each XOR-PEER-ADDRESS. */
import type { TransportAddress } from '../stun/index.js';
import type { Allocation } from './allocation.js';
import type { EngineContext } from './engine-context.js';

export type PeerRefusal = { readonly code: 403 | 443; readonly reason: string };

export function refusePeer(ctx: EngineContext, allocation: Allocation, peer: TransportAddress): PeerRefusal | undefined {
  if (!allocation.relayFor(peer.family)) return { code: 443, reason: 'Peer Address Family Mismatch' };
  const decision = ctx.peerPolicy.check(peer.address);
  if (decision.allowed) return undefined;
  ctx.logger.verbose(`403 for allocation ${allocation.id}: ${decision.rule}`);
  return { code: 403, reason: 'Forbidden IP' };
}
