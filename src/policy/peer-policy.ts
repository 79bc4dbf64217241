/**
 * Which peer addresses a client may reach through the relay. Every address is first reduced
 * to the IPv4 address it carries (IPv4-mapped, IPv4-compatible, NAT64, 6to4), then judged
 * against the IANA special-purpose registries, which are closed unless the operator opens them.
 */
import { bytesToIpv4, ipFamily, ipv6ToBytes } from '../stun/ip.js';
import { ipToBigInt, parseIpRange, rangeContains, type IpRange } from './ip-range.js';
import type { ServicePorts } from './service-ports.js';

export type SpecialKind = 'unspecified' | 'loopback' | 'private' | 'link-local' | 'multicast' | 'reserved';

interface SpecialRange {
  readonly range: IpRange;
  readonly kind: SpecialKind;
  readonly name: string;
}

const special = (cidr: string, kind: SpecialKind, name: string): SpecialRange => ({ range: parseIpRange(cidr), kind, name });

/** IANA IPv4 and IPv6 special-purpose address registries (RFC 6890 and successors). */
const SPECIAL_RANGES: readonly SpecialRange[] = [
  special('0.0.0.0/8', 'unspecified', '"this network"'),
  special('10.0.0.0/8', 'private', 'private network (RFC 1918)'),
  special('100.64.0.0/10', 'private', 'carrier-grade NAT (RFC 6598)'),
  special('127.0.0.0/8', 'loopback', 'loopback'),
  special('169.254.0.0/16', 'link-local', 'link-local (cloud metadata lives here)'),
  special('172.16.0.0/12', 'private', 'private network (RFC 1918)'),
  special('192.0.0.0/24', 'reserved', 'IETF protocol assignments'),
  special('192.0.2.0/24', 'reserved', 'documentation (TEST-NET-1)'),
  special('192.31.196.0/24', 'reserved', 'AS112'),
  special('192.52.193.0/24', 'reserved', 'AMT'),
  special('192.88.99.0/24', 'reserved', '6to4 relay anycast'),
  special('192.168.0.0/16', 'private', 'private network (RFC 1918)'),
  special('192.175.48.0/24', 'reserved', 'AS112'),
  special('198.18.0.0/15', 'reserved', 'benchmarking'),
  special('198.51.100.0/24', 'reserved', 'documentation (TEST-NET-2)'),
  special('203.0.113.0/24', 'reserved', 'documentation (TEST-NET-3)'),
  special('224.0.0.0/4', 'multicast', 'multicast'),
  special('240.0.0.0/4', 'reserved', 'reserved (class E)'),
  special('255.255.255.255/32', 'reserved', 'broadcast'),
  special('::/128', 'unspecified', 'unspecified'),
  special('::1/128', 'loopback', 'loopback'),
  special('64:ff9b:1::/48', 'private', 'local-use NAT64'),
  special('100::/64', 'reserved', 'discard-only'),
  special('2001::/23', 'reserved', 'IETF protocol assignments (Teredo, benchmarking, ORCHID)'),
  special('2001:db8::/32', 'reserved', 'documentation'),
  special('3fff::/20', 'reserved', 'documentation'),
  special('5f00::/16', 'reserved', 'SRv6 SIDs'),
  special('fc00::/7', 'private', 'unique-local'),
  special('fe80::/10', 'link-local', 'link-local'),
  special('fec0::/10', 'private', 'site-local (deprecated)'),
  special('ff00::/8', 'multicast', 'multicast'),
];

/**
 * The address a packet really goes to: IPv6 forms that embed an IPv4 address are judged as
 * that IPv4 address (a relay on a NAT64 or 6to4 network would deliver them there).
 */
export function effectiveAddress(address: string): { family: 4 | 6; address: string } {
  const family = ipFamily(address);
  if (family === undefined) throw new RangeError(`not an IP address: ${address}`);
  if (family === 4) return { family, address };
  const b = ipv6ToBytes(address);
  const zeros = (from: number, to: number): boolean => b.subarray(from, to).every((x) => x === 0);
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, but not :: or ::1)
  if (zeros(0, 10) && ((b[10] === 0xff && b[11] === 0xff) || (b[10] === 0 && b[11] === 0 && !zeros(12, 15)))) {
    return { family: 4, address: bytesToIpv4(b, 12) };
  }
  // 64:ff9b::a.b.c.d (NAT64 well-known prefix, RFC 6052)
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) {
    return { family: 4, address: bytesToIpv4(b, 12) };
  }
  // 2002:a.b.c.d::/48 (6to4, RFC 3056)
  if (b[0] === 0x20 && b[1] === 0x02) return { family: 4, address: bytesToIpv4(b, 2) };
  return { family, address };
}

export interface PeerPolicyOptions {
  readonly allowLoopbackPeers: boolean;
  /** `allowed-peer-ip`: lifts `denied-peer-ip` and the special ranges (never "unspecified"). */
  readonly allowed?: readonly string[];
  /** `denied-peer-ip`: refused in addition to the special ranges. */
  readonly denied?: readonly string[];
  /** The server's own addresses (listening, relay, external): peers only on relay ports. */
  readonly ownAddresses?: readonly string[];
  readonly relayPorts?: { readonly min: number; readonly max: number };
  /** Ports the server serves on: never a peer on a loopback address, even with allow-loopback-peers. */
  readonly servicePorts?: ServicePorts;
}

export type PeerDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly rule: string };

const specialRangeOf = (family: 4 | 6, value: bigint): SpecialRange | undefined =>
  SPECIAL_RANGES.find(({ range }) => rangeContains(range, family, value));

const inAny = (ranges: readonly IpRange[], family: 4 | 6, value: bigint): IpRange | undefined =>
  ranges.find((range) => rangeContains(range, family, value));

/**
 * Which ports of a peer address are open, once the address itself may be a peer: every port;
 * every port but the server's service ports (loopback with allow-loopback-peers); or only the
 * relay range (another of the server's own addresses).
 */
type PortLimit = 'any' | 'not-service-ports' | 'relay-ports-only';

/** Send indications name a port per packet: an address's limit is worked out once, kept this many. */
const PORT_LIMIT_CACHE = 4096;

export class PeerPolicy {
  private readonly allowed: readonly IpRange[];
  private readonly denied: readonly IpRange[];
  private readonly own: ReadonlySet<string>;
  private readonly portLimits = new Map<string, PortLimit>();

  constructor(private readonly options: PeerPolicyOptions) {
    this.allowed = (options.allowed ?? []).map(parseIpRange);
    this.denied = (options.denied ?? []).map(parseIpRange);
    const own = options.ownAddresses ?? [];
    this.own = new Set([...own, ...own.map((a) => effectiveAddress(a).address)]);
  }

  /** May a permission or channel to `address` (and, when given, this port) be installed? */
  check(address: string, port?: number): PeerDecision {
    const effective = effectiveAddress(address);
    const value = ipToBigInt(effective.address, effective.family);
    const carried = effective.address !== address ? ` (carries ${effective.address})` : '';
    const special = specialRangeOf(effective.family, value);
    if (special?.kind === 'unspecified') return { allowed: false, rule: `${address}${carried} is ${special.name}; never allowed` };
    // allowed-peer-ip opens an address on every port, the server's own included (a media server on the same host).
    if (inAny(this.allowed, effective.family, value)) return { allowed: true };
    const deniedBy = inAny(this.denied, effective.family, value);
    if (deniedBy) return { allowed: false, rule: `${address}${carried} is in denied-peer-ip ${deniedBy.text}; allowed-peer-ip opens it` };
    const loopback = special?.kind === 'loopback';
    if (special && !(loopback && this.options.allowLoopbackPeers)) {
      const how = loopback ? 'allow-loopback-peers or allowed-peer-ip opens it' : 'allowed-peer-ip opens it';
      return { allowed: false, rule: `${address}${carried} is ${special.name} ${special.range.text}; ${how}` };
    }
    const refusal = port === undefined ? undefined : this.portRefusal(this.portLimit(effective.address, loopback, false), port);
    return refusal ? { allowed: false, rule: `${address}:${port}${carried} ${refusal}` } : { allowed: true };
  }

  /**
   * For each Send indication (a permission is per IP, the port comes with each packet): may
   * data go to this port of `address`? Only the port rules: the address passed `check` when
   * its permission was installed. A map lookup and a comparison per packet.
   */
  isPeerPort(address: string, port: number): boolean {
    let limit = this.portLimits.get(address);
    if (limit === undefined) {
      const effective = effectiveAddress(address);
      const value = ipToBigInt(effective.address, effective.family);
      const loopback = specialRangeOf(effective.family, value)?.kind === 'loopback';
      limit = this.portLimit(effective.address, loopback, inAny(this.allowed, effective.family, value) !== undefined);
      if (this.portLimits.size >= PORT_LIMIT_CACHE) this.portLimits.clear();
      this.portLimits.set(address, limit);
    }
    return limit === 'any' || this.portRefusal(limit, port) === undefined;
  }

  private portLimit(effectiveAddress: string, loopback: boolean, allowedPeer: boolean): PortLimit {
    if (allowedPeer) return 'any';
    if (loopback && this.options.allowLoopbackPeers) return 'not-service-ports';
    return this.own.has(effectiveAddress) ? 'relay-ports-only' : 'any';
  }

  /** Why `port` is closed under `limit`; undefined when it is open. */
  private portRefusal(limit: PortLimit, port: number): string | undefined {
    if (limit === 'any') return undefined;
    if (this.options.servicePorts?.has(port)) return 'is a port this server serves on (listener, metrics, admin); never a peer';
    if (limit === 'not-service-ports') return undefined;
    const ports = this.options.relayPorts;
    return ports !== undefined && port >= ports.min && port <= ports.max ? undefined : 'is this server, outside its relay ports; only relay ports are peers';
  }

  /** One line for the start-up log. */
  describe(): string {
    const opened = [
      this.options.allowLoopbackPeers ? 'loopback (allow-loopback-peers)' : '',
      this.allowed.length > 0 ? `allowed-peer-ip ${this.allowed.map((r) => r.text).join(', ')}` : '',
    ].filter(Boolean);
    const denied = this.denied.length > 0 ? `; denied-peer-ip ${this.denied.map((r) => r.text).join(', ')}` : '';
    return (
      'peers in special-purpose ranges (loopback, private, CGNAT, link-local, multicast, reserved) are refused' +
      (opened.length > 0 ? `, except ${opened.join(' and ')}` : '; open them with allowed-peer-ip') +
      denied
    );
  }
}
