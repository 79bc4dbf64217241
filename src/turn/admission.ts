/**
 * Whether a new allocation fits the quotas and the bandwidth pool, asked of the ledger before
 * any relay socket is bound; the lease it grants is given back when the allocation (or its
 * Allocate) ends.
 */
import { AttributeType, readUint32 } from '../stun/index.js';
import { bandwidthAttributeToBytesPerSecond } from './bandwidth.js';
import type { EngineContext } from './engine-context.js';
import type { Lease, LedgerAnswer, LedgerRefusal } from './ledger.js';
import { quotaUser } from './quotas.js';
import type { Request } from './respond.js';

export interface Admission {
  readonly user: string;
  /** Bytes per second each way this allocation may relay; 0: unlimited. */
  readonly bytesPerSecond: number;
  /** Gives back what was reserved (idempotent). */
  release(): void;
}

export type AdmissionResult = { readonly ok: true; readonly admission: Admission } | { readonly ok: false; readonly refusal: LedgerRefusal };

/** The result itself when the ledger decides at once (no limit, or one thread): no await before the answer. */
export function admit(ctx: EngineContext, request: Request, username: string, realm: string): AdmissionResult | Promise<AdmissionResult> {
  const realmOptions = ctx.realmOptions?.(realm) ?? {};
  const user = quotaUser(username, ctx.config.restApiSeparator);
  // coturn: the client's BANDWIDTH can lower max-bps, never raise it.
  const maxBps = realmOptions.maxBps ?? ctx.config.maxBps;
  const asked = readUint32(request.message, AttributeType.Bandwidth);
  const bytesPerSecond = maxBps > 0 && asked ? Math.min(maxBps, bandwidthAttributeToBytesPerSecond(asked)) : maxBps;
  const answer = ctx.ledger.reserve({
    user,
    realm,
    bytesPerSecond,
    userQuota: realmOptions.userQuota ?? ctx.config.userQuota,
    totalQuota: realmOptions.totalQuota ?? ctx.config.totalQuota,
    bpsCapacity: ctx.config.bpsCapacity,
  });
  const decided = (answer: LedgerAnswer): AdmissionResult => {
    if (!answer.ok) {
      if (answer.refusal === 'user-quota') ctx.counters.quotaRefusalsUser++;
      else if (answer.refusal === 'total-quota') ctx.counters.quotaRefusalsTotal++;
      return answer;
    }
    return { ok: true, admission: leaseAdmission(ctx, user, bytesPerSecond, answer.lease) };
  };
  return answer instanceof Promise ? answer.then(decided) : decided(answer);
}

function leaseAdmission(ctx: EngineContext, user: string, bytesPerSecond: number, lease: Lease): Admission {
  let released = false;
  return {
    user,
    bytesPerSecond,
    release: () => {
      if (released) return;
      released = true;
      ctx.ledger.release(lease);
    },
  };
}
