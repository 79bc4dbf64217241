/**
 * The DTLS sessions of one UDP socket, by 5-tuple (address, then port: finding one builds no
 * string per datagram). A 5-tuple has one current session and, while that one is open, at
 * most one successor: a new handshake from the same 5-tuple. The successor takes over only
 * when the current session closes, which the endpoint makes happen once the successor's
 * Finished verifies; until then an unverified ClientHello cannot end an open session.
 */
import type { DtlsSession } from './session.js';

export interface SessionSlot {
  current: DtlsSession;
  successor: DtlsSession | undefined;
}

export class SessionTable {
  private readonly byAddress = new Map<string, Map<number, SessionSlot>>();
  private count = 0;

  /** Sessions, current and successors. */
  get size(): number {
    return this.count;
  }

  get(address: string, port: number): SessionSlot | undefined {
    return this.byAddress.get(address)?.get(port);
  }

  /** The first session of its 5-tuple, or one that takes over a slot whose session closed. */
  add(session: DtlsSession): void {
    const { address, port } = session.remote;
    let byPort = this.byAddress.get(address);
    if (!byPort) this.byAddress.set(address, (byPort = new Map()));
    byPort.set(port, { current: session, successor: undefined });
    this.count++;
  }

  addSuccessor(slot: SessionSlot, session: DtlsSession): void {
    slot.successor = session;
    this.count++;
  }

  /** Takes out a session that closed; its successor, if any, becomes current. False when it was not here. */
  remove(session: DtlsSession): boolean {
    const { address, port } = session.remote;
    const byPort = this.byAddress.get(address);
    const slot = byPort?.get(port);
    if (!byPort || !slot) return false;
    if (slot.successor === session) {
      slot.successor = undefined;
    } else if (slot.current !== session) {
      return false;
    } else if (slot.successor) {
      slot.current = slot.successor;
      slot.successor = undefined;
    } else {
      byPort.delete(port);
      if (byPort.size === 0) this.byAddress.delete(address);
    }
    this.count--;
    return true;
  }

  /** Every session, as a copy: closing one while iterating is safe. */
  all(): DtlsSession[] {
    const out: DtlsSession[] = [];
    for (const byPort of this.byAddress.values()) {
      for (const slot of byPort.values()) {
        out.push(slot.current);
        if (slot.successor) out.push(slot.successor);
      }
    }
    return out;
  }
}
