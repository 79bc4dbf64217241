/**
 * RFC 8016 MOBILITY-TICKETs. A ticket names an allocation (its server-wide id) and the
 * generation of its ticket, and carries a MAC over both, the realm and the username under a
 * server secret: nobody can forge one, nor use another user's, and a ticket is good only until
 * the allocation moves (the generation then steps on). No state is kept per ticket.
 *
 * The wire form is base64 text of 32 characters: coturn's client (turnutils_uclient -M) keeps
 * the ticket as a C string of at most 32 characters, so it must hold no NUL and be no longer.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const ID_BYTES = 6;
const GENERATION_BYTES = 4;
const MAC_BYTES = 14;
const TICKET_BYTES = ID_BYTES + GENERATION_BYTES + MAC_BYTES;
/** 24 bytes are exactly 32 base64 characters, with no padding. */
const TICKET_TEXT_LENGTH = 32;
const BASE64 = /^[A-Za-z0-9+/]{32}$/;

export interface TicketHolder {
  readonly id: number;
  readonly generation: number;
  readonly username: string;
  readonly realm: string;
}

/** What a ticket that authenticated names. */
export interface TicketClaim {
  readonly id: number;
  readonly generation: number;
}

export class MobilityTickets {
  constructor(private readonly secret: Buffer) {}

  issue(holder: TicketHolder): Buffer {
    const body = Buffer.alloc(ID_BYTES + GENERATION_BYTES);
    body.writeUIntBE(holder.id, 0, ID_BYTES);
    body.writeUInt32BE(holder.generation >>> 0, ID_BYTES);
    return Buffer.from(Buffer.concat([body, this.mac(body, holder.username, holder.realm)]).toString('base64'), 'latin1');
  }

  /** The allocation and generation the ticket names, when it was issued to this user of this realm; undefined otherwise. */
  open(ticket: Buffer, username: string, realm: string): TicketClaim | undefined {
    if (ticket.length !== TICKET_TEXT_LENGTH) return undefined;
    const text = ticket.toString('latin1');
    if (!BASE64.test(text)) return undefined;
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length !== TICKET_BYTES) return undefined;
    const body = bytes.subarray(0, ID_BYTES + GENERATION_BYTES);
    if (!timingSafeEqual(bytes.subarray(ID_BYTES + GENERATION_BYTES), this.mac(body, username, realm))) return undefined;
    return { id: body.readUIntBE(0, ID_BYTES), generation: body.readUInt32BE(ID_BYTES) };
  }

  private mac(body: Buffer, username: string, realm: string): Buffer {
    // Lengths first, so that no two (realm, username) pairs feed the MAC the same bytes.
    const names = Buffer.concat([Buffer.from(realm, 'utf8'), Buffer.from(username, 'utf8')]);
    const lengths = Buffer.alloc(4);
    lengths.writeUInt16BE(Buffer.byteLength(realm, 'utf8'), 0);
    lengths.writeUInt16BE(Buffer.byteLength(username, 'utf8'), 2);
    return createHmac('sha256', this.secret).update(body).update(lengths).update(names).digest().subarray(0, MAC_BYTES);
  }
}
