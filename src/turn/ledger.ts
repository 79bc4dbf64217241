/**
 * The allocation ledger: the one place that decides whether a new allocation fits
 * `user-quota`, `total-quota` (or the realm's values) and `bps-capacity`. It is asynchronous
 * so that, with relay workers, the decision can be taken by one ledger in the main thread
 * (see ledger-port.ts); in one thread it is LocalLedger, which decides at once.
 */
import { BandwidthPool } from './bandwidth.js';
import { AllocationQuotas, type QuotaRefusal } from './quotas.js';

/** What an Allocate asks for, with the limits in force for its realm when it was asked. */
export interface LeaseRequest {
  /** The user the quota counts (REST API names already reduced, see quotaUser). */
  readonly user: string;
  readonly realm: string;
  /** The allocation's `max-bps`, reserved from `bps-capacity`; 0: unlimited, reserves nothing. */
  readonly bytesPerSecond: number;
  /** Allocations per user and in all; 0: unlimited. */
  readonly userQuota: number;
  readonly totalQuota: number;
  /**
   * `bps-capacity`; 0: unlimited. Carried by each request, so a reload needs no message to
   * the ledger: what is reserved stays, new reservations see the new size.
   */
  readonly bpsCapacity: number;
}

/** A granted reservation; its id is unique within the ledger that granted it. */
export interface Lease {
  readonly id: number;
}

export type LedgerRefusal = QuotaRefusal | 'bps-capacity';

export type LedgerAnswer = { readonly ok: true; readonly lease: Lease } | { readonly ok: false; readonly refusal: LedgerRefusal };

export interface AllocationLedger {
  /**
   * Reserves one allocation for `request.user` and its bandwidth, or says which limit refuses it.
   * The answer itself where it is known at once, so the Allocate answers in the turn it came in.
   */
  reserve(request: LeaseRequest): LedgerAnswer | Promise<LedgerAnswer>;
  /** Gives a lease back; a lease released already (or unknown) is ignored. */
  release(lease: Lease): void;
}

interface Held {
  readonly user: string;
  readonly bytesPerSecond: number;
}

/** The ledger of one thread: today's quotas and bandwidth pool, decided synchronously. */
export class LocalLedger implements AllocationLedger {
  private readonly quotas = new AllocationQuotas();
  private readonly pool = new BandwidthPool(0);
  private readonly held = new Map<number, Held>();
  private nextId = 1;

  reserve(request: LeaseRequest): LedgerAnswer {
    return this.reserveNow(request);
  }

  /** The decision itself, taken before anything else can run: two reservations never race. */
  reserveNow(request: LeaseRequest): LedgerAnswer {
    const refusal = this.quotas.refuse(request.user, request);
    if (refusal) return { ok: false, refusal };
    this.pool.setCapacity(request.bpsCapacity);
    if (!this.pool.reserve(request.bytesPerSecond)) return { ok: false, refusal: 'bps-capacity' };
    this.quotas.add(request.user);
    const id = this.nextId++;
    this.held.set(id, { user: request.user, bytesPerSecond: request.bytesPerSecond });
    return { ok: true, lease: { id } };
  }

  release(lease: Lease): void {
    const held = this.held.get(lease.id);
    if (!held) return;
    this.held.delete(lease.id);
    this.quotas.remove(held.user);
    this.pool.release(held.bytesPerSecond);
  }

  /** Leases held now. */
  get leases(): number {
    return this.held.size;
  }

  /** Bytes per second reserved from `bps-capacity` now. */
  get reservedBytesPerSecond(): number {
    return this.pool.inUse;
  }
}
