/**
 * The allocation ledger across relay workers: each worker's engine holds a LedgerClient that
 * asks, over a MessagePort, the one LedgerServer in the main thread. The main thread handles
 * one message at a time, so two workers cannot both take the last place of a quota, and when
 * a worker dies its leases are given back (releaseAllOf).
 */
import type { AllocationLedger, Lease, LeaseRequest, LedgerAnswer } from './ledger.js';
import { LocalLedger } from './ledger.js';

/** Either end of a MessageChannel, a Worker, or a worker's parentPort. */
export interface LedgerPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** The messages, tagged so that the port may carry other traffic too. */
type ToServer = { readonly ledger: 'reserve'; readonly seq: number; readonly request: LeaseRequest } | { readonly ledger: 'release'; readonly id: number };
type ToClient = { readonly ledger: 'answer'; readonly seq: number; readonly answer: LedgerAnswer };

const isLedgerMessage = (message: unknown): message is { readonly ledger: string } =>
  typeof message === 'object' && message !== null && typeof (message as { ledger?: unknown }).ledger === 'string';

/** A worker's view of the main thread's ledger: reserve is one round trip, release one message. */
export class LedgerClient implements AllocationLedger {
  private nextSeq = 1;
  private readonly pending = new Map<number, { resolve: (answer: LedgerAnswer) => void; reject: (error: Error) => void }>();
  private readonly listener = (message: unknown): void => this.onMessage(message);

  constructor(private readonly port: LedgerPort) {
    port.on('message', this.listener);
  }

  reserve(request: LeaseRequest): Promise<LedgerAnswer> {
    return new Promise((resolve, reject) => {
      const seq = this.nextSeq++;
      this.pending.set(seq, { resolve, reject });
      this.port.postMessage({ ledger: 'reserve', seq, request } satisfies ToServer);
    });
  }

  release(lease: Lease): void {
    this.port.postMessage({ ledger: 'release', id: lease.id } satisfies ToServer);
  }

  /** Stops listening; reservations still unanswered fail (their Allocates get 500, not silence). */
  close(): void {
    this.port.off('message', this.listener);
    for (const { reject } of this.pending.values()) reject(new Error('allocation ledger closed'));
    this.pending.clear();
  }

  private onMessage(message: unknown): void {
    if (!isLedgerMessage(message) || message.ledger !== 'answer') return;
    const { seq, answer } = message as ToClient;
    const waiting = this.pending.get(seq);
    if (!waiting) return;
    this.pending.delete(seq);
    waiting.resolve(answer);
  }
}

interface Attached {
  readonly port: LedgerPort;
  readonly listener: (message: unknown) => void;
  /** Ids of the leases this worker holds. */
  readonly leases: Set<number>;
}

/** The main thread's ledger, serving workers' LedgerClients; lease ids are unique across them. */
export class LedgerServer {
  private readonly workers = new Map<number, Attached>();

  constructor(private readonly ledger: LocalLedger = new LocalLedger()) {}

  /** Serves the worker at the other end of `port`; its leases are its own until released. */
  attach(workerId: number, port: LedgerPort): void {
    if (this.workers.has(workerId)) throw new Error(`worker ${workerId} is attached to the ledger already`);
    const leases = new Set<number>();
    const listener = (message: unknown): void => this.onMessage(port, leases, message);
    this.workers.set(workerId, { port, listener, leases });
    port.on('message', listener);
  }

  /**
   * A worker died (or stopped): every lease it held goes back, and what it still sends is
   * ignored, so a reservation in flight cannot leak. Returns the number of leases released.
   */
  releaseAllOf(workerId: number): number {
    const worker = this.workers.get(workerId);
    if (!worker) return 0;
    this.workers.delete(workerId);
    worker.port.off('message', worker.listener);
    for (const id of worker.leases) this.ledger.release({ id });
    return worker.leases.size;
  }

  /** Leases held now, by all workers. */
  get leases(): number {
    return this.ledger.leases;
  }

  private onMessage(port: LedgerPort, leases: Set<number>, message: unknown): void {
    if (!isLedgerMessage(message)) return;
    const request = message as ToServer;
    if (request.ledger === 'reserve') {
      // Decided and recorded before any other message is handled: the decisions are serial.
      const answer = this.ledger.reserveNow(request.request);
      if (answer.ok) leases.add(answer.lease.id);
      port.postMessage({ ledger: 'answer', seq: request.seq, answer } satisfies ToClient);
    } else if (request.ledger === 'release' && leases.delete(request.id)) {
      // Only a lease the worker holds: one worker cannot give back another's.
      this.ledger.release({ id: request.id });
    }
  }
}
