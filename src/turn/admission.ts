/**
 * Whether a new allocation fits the quotas and the bandwidth pool, decided before any relay
 * socket is bound; what it reserves is given back when the allocation (or its Allocate) ends.
 */
import { AttributeType, readUint32 } from '../stun/index.js';
import { bandwidthAttributeToBytesPerSecond } from './bandwidth.js';
import type { EngineContext } from './engine-context.js';
import { quotaUser, type QuotaRefusal } from './quotas.js';
import type { Request } from './respond.js';

export interface Admission {
  readonly user: string;
  /** Bytes per second each way this allocation may relay; 0: unlimited. */
  readonly bytesPerSecond: number;
  /** Gives back what was reserved (idempotent). */
  release(): void;
}

export type AdmissionResult = { readonly ok: true; readonly admission: Admission } | { readonly ok: false; readonly refusal: QuotaRefusal | 'bps-capacity' };

export function admit(ctx: EngineContext, request: Request, username: string, realm: string): AdmissionResult {
  const realmOptions = ctx.realmOptions?.(realm) ?? {};
  const limits = {
    userQuota: realmOptions.userQuota ?? ctx.config.userQuota,
    totalQuota: realmOptions.totalQuota ?? ctx.config.totalQuota,
  };
  const user = quotaUser(username, ctx.config.restApiSeparator);
  const refusal = ctx.quotas.refuse(user, limits);
  if (refusal) {
    if (refusal === 'user-quota') ctx.counters.quotaRefusalsUser++;
    else ctx.counters.quotaRefusalsTotal++;
    return { ok: false, refusal };
  }
  // coturn: the client's BANDWIDTH can lower max-bps, never raise it.
  const maxBps = realmOptions.maxBps ?? ctx.config.maxBps;
  const asked = readUint32(request.message, AttributeType.Bandwidth);
  const bytesPerSecond = maxBps > 0 && asked ? Math.min(maxBps, bandwidthAttributeToBytesPerSecond(asked)) : maxBps;
  if (!ctx.bandwidthPool.reserve(bytesPerSecond)) return { ok: false, refusal: 'bps-capacity' };
  ctx.quotas.add(user);
  let released = false;
  return {
    ok: true,
    admission: {
      user,
      bytesPerSecond,
      release: () => {
        if (released) return;
        released = true;
        ctx.quotas.remove(user);
        ctx.bandwidthPool.release(bytesPerSecond);
      },
    },
  };
}
