/**
 * Allocation quotas (`user-quota`, `total-quota`; 486 when reached). A REST API name counts
 * as the user it names, not as the expiry-stamped string, so that minting new credentials
 * does not escape the quota.
 */
export interface QuotaLimits {
  /** Allocations per user; 0: unlimited. */
  readonly userQuota: number;
  /** Allocations in all; 0: unlimited. */
  readonly totalQuota: number;
}

export type QuotaRefusal = 'user-quota' | 'total-quota';

export class AllocationQuotas {
  private readonly perUser = new Map<string, number>();
  private total = 0;

  /** Why another allocation for this user is refused, if it is. */
  refuse(user: string, limits: QuotaLimits): QuotaRefusal | undefined {
    if (limits.totalQuota > 0 && this.total >= limits.totalQuota) return 'total-quota';
    if (limits.userQuota > 0 && (this.perUser.get(user) ?? 0) >= limits.userQuota) return 'user-quota';
    return undefined;
  }

  add(user: string): void {
    this.total++;
    this.perUser.set(user, (this.perUser.get(user) ?? 0) + 1);
  }

  remove(user: string): void {
    this.total = Math.max(0, this.total - 1);
    const left = (this.perUser.get(user) ?? 1) - 1;
    if (left > 0) this.perUser.set(user, left);
    else this.perUser.delete(user);
  }
}

/** The user a name stands for: `expiry:user` and `user:expiry` REST names count as `user`. */
export function quotaUser(username: string, separator: string): string {
  const at = username.indexOf(separator);
  if (at < 0) return username;
  const before = username.slice(0, at);
  const after = username.slice(at + separator.length);
  return /^\d+$/.test(before) ? after : before;
}
