/** CreatePermission (RFC 8656 §9): one or more peer IPs, all installed or none. */
import { AttributeType, readAllXorAddresses } from '../stun/index.js';
import type { Allocation } from './allocation.js';
import type { EngineContext } from './engine-context.js';
import { refusePeer } from './peer-checks.js';
import { answerAndRemember, failureFor, successFor, type Request } from './respond.js';

export function handleCreatePermission(ctx: EngineContext, request: Request, allocation: Allocation): void {
  const fail = failureFor(ctx, request, allocation.key);
  const peers = readAllXorAddresses(request.message, AttributeType.XorPeerAddress);
  if (peers.length === 0) return fail(400, 'Missing XOR-PEER-ADDRESS');
  for (const peer of peers) {
    const refusal = refusePeer(ctx, allocation, peer, false);
    if (refusal) return fail(refusal.code, refusal.reason);
  }
  const added = new Set(peers.filter((p) => !allocation.hasPermission(p.address, request.now)).map((p) => p.address)).size;
  if (allocation.permissionCount + added > ctx.config.maxPermissionsPerAllocation) {
    return fail(508, 'Too many permissions');
  }
  const expiresAt = request.now + ctx.config.permissionLifetimeSeconds * 1000;
  for (const peer of peers) allocation.installPermission(peer.address, expiresAt);
  ctx.expiry.schedule(allocation, expiresAt);
  answerAndRemember(ctx, request, allocation, successFor(ctx, request));
}
