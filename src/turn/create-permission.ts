/** CreatePermission (RFC 8656 §9): one or more peer IPs, all installed or none. */
import { AttributeType, readAllXorAddresses } from '../stun/index.js';
import type { Allocation } from './allocation.js';
import type { EngineContext } from './engine-context.js';
import { refusePeer } from './peer-checks.js';
import { errorFor, send, successFor, type Request } from './respond.js';

export function handleCreatePermission(ctx: EngineContext, request: Request, allocation: Allocation): void {
  const peers = readAllXorAddresses(request.message, AttributeType.XorPeerAddress);
  if (peers.length === 0) {
    return void send(ctx, request, errorFor(ctx, request, 400, 'Missing XOR-PEER-ADDRESS'), allocation.key);
  }
  for (const peer of peers) {
    const refusal = refusePeer(ctx, allocation, peer, false);
    if (refusal) return void send(ctx, request, errorFor(ctx, request, refusal.code, refusal.reason), allocation.key);
  }
  const added = new Set(peers.filter((p) => !allocation.hasPermission(p.address, request.now)).map((p) => p.address)).size;
  if (allocation.permissionCount + added > ctx.config.maxPermissionsPerAllocation) {
    return void send(ctx, request, errorFor(ctx, request, 508, 'Too many permissions'), allocation.key);
  }
  const expiresAt = request.now + ctx.config.permissionLifetimeSeconds * 1000;
  for (const peer of peers) allocation.installPermission(peer.address, expiresAt);
  ctx.expiry.schedule(allocation, expiresAt);
  allocation.lastTransactionId = Buffer.from(request.message.transactionId);
  allocation.lastResponse = send(ctx, request, successFor(ctx, request), allocation.key);
}
