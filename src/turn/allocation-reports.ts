/**
 * Where the engine tells of an allocation's life (redis-statsdb publishes it). Called on the
 * request path, so an implementation only queues: it never waits and never throws.
 */
import type { Allocation } from './allocation.js';

export interface AllocationReports {
  /** Allocate ("new") or Refresh ("refreshed", also with lifetime 0 just before the deletion). */
  set(allocation: Allocation, lifetimeSeconds: number, refreshed: boolean): void;
  /** The allocation ended (expired, refreshed to 0, its connection closed, the server stopped). */
  deleted(allocation: Allocation): void;
}
