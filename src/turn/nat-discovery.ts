/**
 * RFC 5780 NAT behaviour discovery, as coturn serves it: what a Binding request asks for
 * (CHANGE-REQUEST, RESPONSE-PORT, PADDING), and where its answer comes from and goes to.
 */
import { AttributeType, readUint32, type StunMessage, type TransportAddress } from '../stun/index.js';
import type { ClientTransport } from './session.js';

/** The engine's view of the server's other listening address (net/alternate-endpoints.ts). */
export interface AlternateAddresses {
  /** OTHER-ADDRESS of `local`: the next listening IP of its family, on the other port; undefined: none. */
  otherAddress(local: TransportAddress): TransportAddress | undefined;
  /** Where CHANGE-REQUEST has the answer leave from: `local` with its IP, its port or both changed. */
  changed(local: TransportAddress, changeIp: boolean, changePort: boolean): TransportAddress | undefined;
  /** Sends `data` from the UDP socket bound at `origin`; false when none is bound there. */
  sendFrom(origin: TransportAddress, destination: TransportAddress, data: Buffer): boolean;
}

/** What a Binding request asks of RFC 5780; absent fields: not asked. */
export interface DiscoveryRequest {
  readonly changeIp: boolean;
  readonly changePort: boolean;
  readonly responsePort?: number;
  readonly padding: boolean;
}

export interface DiscoveryRefusal {
  readonly code: 400 | 420;
  readonly reason: string;
}

/** coturn pads to the listening socket's MTU, which an unconnected socket does not know: 1500. */
export const PADDING_BYTES = 1500;

const CHANGE_IP = 0x04;
const CHANGE_PORT = 0x02;
const ONLY_UDP = 'Wrong request: applicable only to UDP protocol';
const NOT_BOTH = 'Wrong request format: you cannot use PADDING and RESPONSE_PORT together';

/**
 * Reads the RFC 5780 attributes of a Binding request, refusing what coturn refuses with its
 * codes and reasons. `enabled`: whether the server serves RFC 5780 at all.
 */
export function readDiscoveryRequest(message: StunMessage, transport: ClientTransport, enabled: boolean): DiscoveryRequest | DiscoveryRefusal {
  const flags = readUint32(message, AttributeType.ChangeRequest) ?? 0;
  const changeIp = (flags & CHANGE_IP) !== 0;
  const changePort = (flags & CHANGE_PORT) !== 0;
  if (changeIp || changePort) {
    // An empty CHANGE-REQUEST is fine (Stuntman's clients send one to every server).
    if (!enabled) return { code: 420, reason: 'Unknown attribute: TURN server was configured without RFC 5780 support' };
    if (transport !== 'udp') return { code: 400, reason: ONLY_UDP };
  }
  const padding = message.attributes.has(AttributeType.Padding);
  const port = message.attributes.get(AttributeType.ResponsePort);
  if (padding && port) return { code: 400, reason: NOT_BOTH };
  if (padding && transport !== 'udp' && transport !== 'dtls') return { code: 400, reason: 'Wrong request: padding applicable only to UDP and DTLS protocols' };
  if (!port) return { changeIp, changePort, padding };
  if (transport !== 'udp') return { code: 400, reason: ONLY_UDP };
  if (port.length !== 4) return { code: 400, reason: 'Wrong response port format' };
  return { changeIp, changePort, padding, responsePort: message.buffer.readUInt16BE(port.offset) };
}

export const isRefusal = (read: DiscoveryRequest | DiscoveryRefusal): read is DiscoveryRefusal => 'code' in read;

/** Where an answer leaves from and goes to. */
export interface AnswerRoute {
  readonly origin: TransportAddress;
  readonly destination: TransportAddress;
}

/** The answer's RESPONSE-ORIGIN and destination; undefined when the changed address is not listened on. */
export function routeOf(asked: DiscoveryRequest, local: TransportAddress, remote: TransportAddress, alternates: AlternateAddresses): AnswerRoute | undefined {
  const origin = asked.changeIp || asked.changePort ? alternates.changed(local, asked.changeIp, asked.changePort) : local;
  const destination = asked.responsePort === undefined ? remote : { ...remote, port: asked.responsePort };
  return origin && { origin, destination };
}

export const sameAddress = (a: TransportAddress, b: TransportAddress): boolean => a.address === b.address && a.port === b.port;
