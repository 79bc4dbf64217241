/**
 * The extensions of an X.509 certificate, read from its DER (Node's X509Certificate does not
 * expose them): each one's OID, criticality and value, and the two the chain check decodes,
 * basicConstraints and keyUsage. Strict: definite, minimal lengths that fit their container,
 * and no extension twice. Malformed input gives undefined, never an exception.
 */

export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Buffer;
}

export interface BasicConstraints {
  readonly ca: boolean;
  /** How many CAs may follow this one below it; undefined means no limit. */
  readonly pathLength?: number;
}

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extendedKeyUsage: '2.5.29.37',
  nameConstraints: '2.5.29.30',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
} as const;

/** RFC 5280 §4.2.1.3 KeyUsage bits, numbered from the first. */
export const KeyUsageBit = { digitalSignature: 0, keyCertSign: 5 } as const;

const TAG = { boolean: 0x01, integer: 0x02, bitString: 0x03, octetString: 0x04, oid: 0x06, sequence: 0x30, extensions: 0xa3 } as const;

class Malformed extends Error {}

/** What `read` returns, or undefined when the DER it reads is malformed. */
function unlessMalformed<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (error instanceof Malformed) return undefined;
    throw error;
  }
}

interface Element {
  readonly tag: number;
  readonly content: Buffer;
}

/** The DER elements in `data`, one after another, filling it exactly. */
function elements(data: Buffer): Element[] {
  const out: Element[] = [];
  let at = 0;
  while (at < data.length) {
    if (data.length - at < 2) throw new Malformed();
    const tag = data[at]!;
    if ((tag & 0x1f) === 0x1f) throw new Malformed(); // multi-byte tags occur nowhere here
    let length = data[at + 1]!;
    at += 2;
    if (length & 0x80) {
      const bytes = length & 0x7f;
      if (bytes === 0 || bytes > 4 || data.length - at < bytes) throw new Malformed(); // 0: indefinite, not DER
      length = data.readUIntBE(at, bytes);
      if (length < 0x80 || data[at] === 0) throw new Malformed(); // not the shortest form
      at += bytes;
    }
    if (data.length - at < length) throw new Malformed();
    out.push({ tag, content: data.subarray(at, at + length) });
    at += length;
  }
  return out;
}

function single(data: Buffer, tag: number): Buffer {
  const [only, ...rest] = elements(data);
  if (!only || rest.length > 0 || only.tag !== tag) throw new Malformed();
  return only.content;
}

function readBoolean(content: Buffer): boolean {
  if (content.length !== 1 || (content[0] !== 0 && content[0] !== 0xff)) throw new Malformed();
  return content[0] === 0xff;
}

function readOid(content: Buffer): string {
  if (content.length === 0 || content[content.length - 1]! & 0x80) throw new Malformed();
  const arcs: number[] = [];
  let value = 0;
  for (let i = 0; i < content.length; i++) {
    const byte = content[i]!;
    if (value === 0 && byte === 0x80) throw new Malformed(); // leading zero in an arc
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new Malformed();
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  const first = arcs[0]!;
  const top = first < 40 ? 0 : first < 80 ? 1 : 2;
  return [top, first - top * 40, ...arcs.slice(1)].join('.');
}

function readExtension(content: Buffer): Extension {
  const parts = elements(content);
  const [oid, second, third] = parts;
  if (!oid || oid.tag !== TAG.oid || !second) throw new Malformed();
  if (parts.length === 2 && second.tag === TAG.octetString) return { oid: readOid(oid.content), critical: false, value: second.content };
  if (parts.length !== 3 || second.tag !== TAG.boolean || third!.tag !== TAG.octetString) throw new Malformed();
  return { oid: readOid(oid.content), critical: readBoolean(second.content), value: third!.content };
}

/** The certificate's extensions, in order; none for a certificate without any; undefined when malformed. */
export function readExtensions(der: Buffer): Extension[] | undefined {
  return unlessMalformed(() => {
    const [tbs, algorithm, signature, ...rest] = elements(single(der, TAG.sequence));
    if (!tbs || tbs.tag !== TAG.sequence || algorithm?.tag !== TAG.sequence || signature?.tag !== TAG.bitString || rest.length > 0) throw new Malformed();
    const fields = elements(tbs.content);
    const last = fields[fields.length - 1];
    if (!last || last.tag !== TAG.extensions) return [];
    const extensions = elements(single(last.content, TAG.sequence)).map((e) => {
      if (e.tag !== TAG.sequence) throw new Malformed();
      return readExtension(e.content);
    });
    if (extensions.length === 0 || new Set(extensions.map((e) => e.oid)).size !== extensions.length) throw new Malformed();
    return extensions;
  });
}

/** basicConstraints' value (RFC 5280 §4.2.1.9); undefined when malformed. */
export function readBasicConstraints(value: Buffer): BasicConstraints | undefined {
  return unlessMalformed(() => {
    const fields = elements(single(value, TAG.sequence));
    let at = 0;
    let ca = false;
    if (fields[at]?.tag === TAG.boolean) ca = readBoolean(fields[at++]!.content);
    let pathLength: number | undefined;
    const limit = fields[at];
    if (limit) {
      if (limit.tag !== TAG.integer || limit.content.length === 0 || limit.content.length > 4 || limit.content[0]! & 0x80) throw new Malformed();
      if (limit.content.length > 1 && limit.content[0] === 0 && !(limit.content[1]! & 0x80)) throw new Malformed(); // not minimal
      pathLength = limit.content.readUIntBE(0, limit.content.length);
      at++;
    }
    if (at !== fields.length) throw new Malformed();
    return { ca, pathLength };
  });
}

/** keyUsage's value (RFC 5280 §4.2.1.3) as a test of one bit; undefined when malformed. */
export function readKeyUsage(value: Buffer): ((bit: number) => boolean) | undefined {
  return unlessMalformed(() => {
    const bits = single(value, TAG.bitString);
    if (bits.length === 0 || bits[0]! > 7 || (bits.length === 1 && bits[0] !== 0)) throw new Malformed();
    return (bit) => {
      const byte = 1 + (bit >> 3);
      return byte < bits.length && (bits[byte]! & (0x80 >> (bit & 7))) !== 0;
    };
  });
}
