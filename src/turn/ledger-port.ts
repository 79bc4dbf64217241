/**
 * The allocation ledger across relay workers: each worker's engine holds a LedgerClient that
 * asks, over a MessagePort, the one LedgerServer in the main thread. The main thread handles
 * one message at a time, so two workers cannot both take the last place of a quota, and when
 * a worker dies its leases are given back (releaseAllOf).
 *
 * A request under no limit at all (no user-quota, total-quota or bps-capacity: the default)
 * cannot be refused, so the client grants it at once and only tells the server, which counts
 * the lease when that message arrives: an Allocate then waits for no other thread (a round
 * trip through main was 0.1 ms at the median and over 1 ms at p99 on a loaded 2-core box, to
 * coturn's 0.3 ms for the whole Allocate). So that a request under a limit still counts every
 * lease granted before it, each client counts its grants not yet recorded in shared memory
 * (Atomics, before it posts them), and the server decides no limited request while any
 * worker's count is above 0: it waits for those messages, which are on their way. A relay
 * worker sends them in its batches (workers/message-batch.ts: each message woke main, at some
 * 90 µs of its CPU), so such a request may wait up to BATCH_MS for another worker's grants; only
 * a server with some users or realms under a limit and others under none has both kinds.
 */
import type { AllocationLedger, Lease, LeaseRequest, LedgerAnswer } from './ledger.js';
import { LocalLedger } from './ledger.js';
import { forEachMessage } from '../workers/message-batch.js';

/** Relay workers a server has at most (a RESERVATION-TOKEN names its worker in one byte). */
const MAX_WORKERS = 256;

/** A request no limit applies to: granted whatever the ledger holds. */
const unlimited = (request: LeaseRequest): boolean => request.userQuota <= 0 && request.totalQuota <= 0 && request.bpsCapacity <= 0;

/** Either end of a MessageChannel, a Worker, or a worker's parentPort. */
export interface LedgerPort {
  postMessage(message: unknown): void;
  /**
   * Posts with the worker's next batch of messages that may wait (workers/message-batch.ts);
   * postMessage then sends that batch first. Absent: the client posts at the end of the turn.
   */
  postLater?(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** The messages, tagged so that the port may carry other traffic too. */
type ToServer =
  | { readonly ledger: 'reserve'; readonly seq: number; readonly request: LeaseRequest }
  // Granted by the client already (an unlimited request); `id` is the client's (negative).
  | { readonly ledger: 'granted'; readonly id: number; readonly request: LeaseRequest }
  | { readonly ledger: 'release'; readonly id: number };
type ToClient = { readonly ledger: 'answer'; readonly seq: number; readonly answer: LedgerAnswer };

const isLedgerMessage = (message: unknown): message is { readonly ledger: string } =>
  typeof message === 'object' && message !== null && typeof (message as { ledger?: unknown }).ledger === 'string';

/** Where a client counts its grants the server has not recorded yet: its slot of LedgerServer.memory. */
export interface UnrecordedGrants {
  readonly memory: SharedArrayBuffer;
  /** The worker id the server attached this client's port as. */
  readonly slot: number;
}

/**
 * A worker's view of the main thread's ledger: a limited reserve is one round trip, an
 * unlimited one (with `unrecorded`) and a release one message. Lease ids of its own grants
 * are negative, unique within this client.
 */
export class LedgerClient implements AllocationLedger {
  private nextSeq = 1;
  private nextOwnId = -1;
  private readonly pending = new Map<number, { resolve: (answer: LedgerAnswer) => void; reject: (error: Error) => void }>();
  private readonly listener = (message: unknown): void => this.onMessage(message);
  private readonly counts: Int32Array | undefined;
  /**
   * Grants and releases not posted yet: posted after this turn's answers are sent (a
   * postMessage was 25-50 us of an Allocate's answer on a loaded box), in their order.
   */
  private outbox: ToServer[] = [];

  /** Without `unrecorded`, every reservation is decided by the server. */
  constructor(
    private readonly port: LedgerPort,
    private readonly unrecorded?: UnrecordedGrants,
  ) {
    this.counts = unrecorded && new Int32Array(unrecorded.memory);
    port.on('message', this.listener);
  }

  reserve(request: LeaseRequest): LedgerAnswer | Promise<LedgerAnswer> {
    if (this.counts && unlimited(request)) return this.grant(request);
    return new Promise((resolve, reject) => {
      const seq = this.nextSeq++;
      this.pending.set(seq, { resolve, reject });
      // Behind what was queued before it, so the server sees every message in the order made.
      this.flush();
      this.port.postMessage({ ledger: 'reserve', seq, request } satisfies ToServer);
    });
  }

  release(lease: Lease): void {
    this.post({ ledger: 'release', id: lease.id });
  }

  /**
   * Counted as unrecorded before it is posted: from then on the server decides no limited
   * request before it has it, so the message may leave after the Allocate's answer.
   */
  private grant(request: LeaseRequest): LedgerAnswer {
    const id = this.nextOwnId--;
    Atomics.add(this.counts!, this.unrecorded!.slot, 1);
    this.post({ ledger: 'granted', id, request });
    return { ok: true, lease: { id } };
  }

  /**
   * With the worker's batch where the port has one (a grant or release decides nothing at once);
   * else queued for the end of this turn: setImmediate runs after the I/O callbacks that answer.
   */
  private post(message: ToServer): void {
    if (this.port.postLater) this.port.postLater(message);
    else if (this.outbox.push(message) === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const messages = this.outbox;
    this.outbox = [];
    for (const message of messages) this.port.postMessage(message);
  }

  /** Stops listening; reservations still unanswered fail (their Allocates get 500, not silence). */
  close(): void {
    this.flush();
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
  /** The server's lease id of each lease the worker granted itself, by the worker's id. */
  readonly own: Map<number, number>;
  detached: boolean;
}

/** The main thread's ledger, serving workers' LedgerClients; lease ids are unique across them. */
export class LedgerServer {
  /** Each worker's grants not recorded here yet, by worker id (LedgerClient's UnrecordedGrants). */
  readonly memory = new SharedArrayBuffer(MAX_WORKERS * Int32Array.BYTES_PER_ELEMENT);
  private readonly unrecorded = new Int32Array(this.memory);
  private readonly workers = new Map<number, Attached>();
  /** Limited requests that came while a worker's grants were on their way, in arrival order. */
  private waiting: { readonly worker: Attached; readonly seq: number; readonly request: LeaseRequest }[] = [];

  constructor(private readonly ledger: LocalLedger = new LocalLedger()) {}

  /** Serves the worker at the other end of `port`; its leases are its own until released. */
  attach(workerId: number, port: LedgerPort): void {
    if (!Number.isInteger(workerId) || workerId < 0 || workerId >= MAX_WORKERS) throw new RangeError(`ledger worker id must be 0..${MAX_WORKERS - 1}, got ${workerId}`);
    if (this.workers.has(workerId)) throw new Error(`worker ${workerId} is attached to the ledger already`);
    // A relay worker's grants and releases come in its batches (workers/message-batch.ts).
    const listener = (posted: unknown): void => forEachMessage(posted, (message) => this.onMessage(workerId, worker, message));
    const worker: Attached = { port, listener, leases: new Set(), own: new Map(), detached: false };
    this.workers.set(workerId, worker);
    port.on('message', worker.listener);
  }

  /**
   * A worker died (or stopped): every lease it held goes back, and what it still sends is
   * ignored, so a reservation in flight cannot leak. Returns the number of leases released.
   */
  releaseAllOf(workerId: number): number {
    const worker = this.workers.get(workerId);
    this.workers.delete(workerId);
    if (worker) {
      worker.detached = true;
      worker.port.off('message', worker.listener);
      for (const id of worker.leases) this.ledger.release({ id });
    }
    // Its grants still on their way never come: nothing waits for them (and a replacement starts at 0).
    Atomics.store(this.unrecorded, workerId, 0);
    this.decideWaiting();
    return worker?.leases.size ?? 0;
  }

  /** Leases held now, by all workers. */
  get leases(): number {
    return this.ledger.leases;
  }

  private onMessage(workerId: number, worker: Attached, message: unknown): void {
    if (!isLedgerMessage(message)) return;
    const request = message as ToServer;
    if (request.ledger === 'reserve') {
      if (this.waiting.length > 0 || this.grantsOnTheirWay()) this.waiting.push({ worker, seq: request.seq, request: request.request });
      else this.decide(worker, request.seq, request.request);
    } else if (request.ledger === 'granted') {
      // Unlimited: reserveNow grants it, and counts it for the limited requests to come.
      const answer = this.ledger.reserveNow(request.request);
      if (answer.ok) {
        worker.leases.add(answer.lease.id);
        worker.own.set(request.id, answer.lease.id);
      }
      Atomics.sub(this.unrecorded, workerId, 1);
      this.decideWaiting();
    } else if (request.ledger === 'release') {
      // Only a lease the worker holds: one worker cannot give back another's.
      const id = request.id < 0 ? worker.own.get(request.id) : request.id;
      if (request.id < 0) worker.own.delete(request.id);
      if (id !== undefined && worker.leases.delete(id)) this.ledger.release({ id });
    }
  }

  /** Decided and recorded before any other message is handled: the decisions are serial. */
  private decide(worker: Attached, seq: number, request: LeaseRequest): void {
    if (worker.detached) return;
    const answer = this.ledger.reserveNow(request);
    if (answer.ok) worker.leases.add(answer.lease.id);
    worker.port.postMessage({ ledger: 'answer', seq, answer } satisfies ToClient);
  }

  /** The limited requests that waited, once every grant made before them is recorded. */
  private decideWaiting(): void {
    if (this.waiting.length === 0 || this.grantsOnTheirWay()) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const { worker, seq, request } of waiting) this.decide(worker, seq, request);
  }

  /** Any worker's, attached or not yet: a worker may grant before main has attached its port. */
  private grantsOnTheirWay(): boolean {
    for (let id = 0; id < MAX_WORKERS; id++) if (Atomics.load(this.unrecorded, id) > 0) return true;
    return false;
  }
}
