/** Refresh (RFC 8656 §7.3): extend an allocation, or delete it with LIFETIME 0. */
import { AttributeType, readUint32 } from '../stun/index.js';
import type { Allocation } from './allocation.js';
import type { EngineContext } from './engine-context.js';
import { grantedLifetime } from './lifetime.js';
import { tokenSecondsLeft } from './oauth-authenticate.js';
import { addTicket, ticketFitsOwnAllocation } from './mobility.js';
import { answerAndRemember, successFor, type Request } from './respond.js';

export function handleRefresh(ctx: EngineContext, request: Request, allocation: Allocation): void {
  if (!ticketFitsOwnAllocation(ctx, request, allocation)) return;
  const requested = readUint32(request.message, AttributeType.Lifetime);
  const lifetime = requested === 0 ? 0 : grantedLifetime(ctx.config, requested, tokenSecondsLeft(allocation.oauth, request.now));
  const response = successFor(ctx, request).addUint32(AttributeType.Lifetime, lifetime);
  addTicket(ctx, response, allocation);
  answerAndRemember(ctx, request, allocation, response);
  ctx.allocationReports?.set(allocation, lifetime, true);
  if (lifetime === 0) {
    ctx.release(allocation, 'refreshed with lifetime 0');
    return;
  }
  allocation.expiresAt = request.now + lifetime * 1000;
  ctx.expiry.schedule(allocation, allocation.expiresAt);
}
