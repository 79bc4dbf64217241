// The servers' own share of a call's setup, read off the wire: tcpdump on loopback records
// every STUN datagram to and from the servers' listening ports, and each request is paired
// with its answer by transaction id. What is between them is the server's time for that
// request (its wake-up, its work, any wait on another thread), per request kind and server,
// without the client's or the tap's time. Used by bench/call-setup.ts (SETUP_CAPTURE=1).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcess, type ProcessHandle } from '../test/support/processes.js';
import { quantile } from './quantiles.js';

/** One request and the first answer to it, in capture-clock milliseconds. */
export interface Exchange {
  /** The server's listening port. */
  readonly serverPort: number;
  /** 'Allocate 401', 'Allocate', 'CreatePermission', 'Binding', ... ('Allocate 437' etc. for other errors). */
  readonly kind: string;
  readonly requestAt: number;
  readonly answerAt: number;
  /** The request was sent again before the first answer (a retransmission). */
  readonly resent: boolean;
}

const METHODS: Record<number, string> = { 0x001: 'Binding', 0x003: 'Allocate', 0x004: 'Refresh', 0x008: 'CreatePermission', 0x009: 'ChannelBind' };
const ERROR_CODE = 0x0009;
const MAGIC_COOKIE = 0x2112a442;

export class StunCapture {
  private constructor(
    private readonly proc: ProcessHandle,
    private readonly file: string,
    private readonly ports: readonly number[],
  ) {}

  /** Starts tcpdump on `lo` for UDP to and from `ports`; resolves once it listens. */
  static async start(ports: readonly number[]): Promise<StunCapture> {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'stun-capture-')), 'lo.pcap');
    const filter = ports.map((p) => `udp port ${p}`).join(' or ');
    // -U: each packet written as it comes, so a stop loses none; -s: headers and STUN attributes are enough.
    const proc = startProcess('tcpdump', ['-i', 'lo', '-n', '-U', '--immediate-mode', '-s', '512', '-w', file, filter]);
    await proc.waitForOutput(/listening on lo/, 5000);
    return new StunCapture(proc, file, ports);
  }

  /** Stops tcpdump (by its PID) and pairs what it wrote. */
  async stop(): Promise<Exchange[]> {
    await sleep(200); // the last answers on their way into the file
    await this.proc.stop();
    const data = fs.readFileSync(this.file);
    fs.rmSync(path.dirname(this.file), { recursive: true, force: true });
    return pairExchanges(readPcap(data), this.ports);
  }
}

interface Datagram {
  readonly at: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly client: string;
  readonly payload: Buffer;
}

/** UDP datagrams of a classic pcap file (Ethernet or Linux cooked link layer, IPv4 or IPv6). */
export function readPcap(data: Buffer): Datagram[] {
  const magic = data.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const u32 = (at: number) => (le ? data.readUInt32LE(at) : data.readUInt32BE(at));
  const linkType = u32(20);
  const linkHeader = linkType === 1 ? 14 : linkType === 113 ? 16 : linkType === 276 ? 20 : 0;
  const out: Datagram[] = [];
  for (let at = 24; at + 16 <= data.length; ) {
    const time = u32(at) * 1000 + u32(at + 4) / (nanos ? 1e6 : 1e3);
    const length = u32(at + 8);
    const packet = data.subarray(at + 16, at + 16 + length);
    at += 16 + length;
    const ip = packet.subarray(linkHeader);
    const version = ip[0]! >> 4;
    let udp: Buffer;
    let src: string;
    if (version === 4 && ip[9] === 17) {
      udp = ip.subarray((ip[0]! & 0x0f) * 4);
      src = `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
    } else if (version === 6 && ip[6] === 17) {
      udp = ip.subarray(40);
      src = ip.subarray(8, 24).toString('hex');
    } else continue;
    if (udp.length < 8) continue;
    const srcPort = udp.readUInt16BE(0);
    const dstPort = udp.readUInt16BE(2);
    out.push({ at: time, srcPort, dstPort, client: src, payload: udp.subarray(8) });
  }
  return out;
}

/** The ERROR-CODE of a STUN error answer (class and number), if it has one within the capture. */
function errorCode(stun: Buffer): number | undefined {
  for (let at = 20; at + 4 <= stun.length; ) {
    const type = stun.readUInt16BE(at);
    const length = stun.readUInt16BE(at + 2);
    if (type === ERROR_CODE && at + 8 <= stun.length) return (stun[at + 6]! & 0x07) * 100 + stun[at + 7]!;
    at += 4 + Math.ceil(length / 4) * 4;
  }
  return undefined;
}

/** Requests to `ports` paired with the first answer from the same port with their transaction id. */
export function pairExchanges(datagrams: readonly Datagram[], ports: readonly number[]): Exchange[] {
  const open = new Map<string, { serverPort: number; method: number; at: number; resent: boolean }>();
  const out: Exchange[] = [];
  for (const d of datagrams) {
    const stun = d.payload;
    if (stun.length < 20 || (stun[0]! & 0xc0) !== 0 || stun.readUInt32BE(4) !== MAGIC_COOKIE) continue;
    const type = stun.readUInt16BE(0);
    const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
    const cls = ((type & 0x0100) >> 7) | ((type & 0x0010) >> 4);
    const id = stun.subarray(8, 20).toString('hex');
    if (cls === 0 && ports.includes(d.dstPort)) {
      const known = open.get(id);
      if (known) known.resent = true;
      else open.set(id, { serverPort: d.dstPort, method, at: d.at, resent: false });
    } else if ((cls === 2 || cls === 3) && ports.includes(d.srcPort)) {
      const request = open.get(id);
      if (!request) continue;
      open.delete(id);
      const name = METHODS[request.method] ?? `method 0x${request.method.toString(16)}`;
      const kind = cls === 2 ? name : `${name} ${errorCode(stun) ?? 'error'}`;
      out.push({ serverPort: request.serverPort, kind, requestAt: request.at, answerAt: d.at, resent: request.resent });
    }
  }
  return out;
}

/** Per kind and server: count, median, p90 and max of the server's time, and the first one's, in ms. */
export function printServerTimes(exchanges: readonly Exchange[], servers: readonly { name: string; port: number }[]): void {
  const kinds = [...new Set(exchanges.map((e) => e.kind))].sort();
  const WIDTH = 36;
  const cell = (port: number, kind: string): string => {
    const times = exchanges.filter((e) => e.serverPort === port && e.kind === kind && !e.resent).map((e) => e.answerAt - e.requestAt);
    const xs = [...times].sort((a, b) => a - b);
    if (!xs.length) return 'n/a'.padEnd(WIDTH);
    return `${xs.length} × ${quantile(xs, 0.5).toFixed(2)} / ${quantile(xs, 0.9).toFixed(2)} / ${xs.at(-1)!.toFixed(2)} (${times[0]!.toFixed(2)})`.padEnd(WIDTH);
  };
  console.log(`  ${'request'.padEnd(20)} ${servers.map((s) => s.name.padEnd(WIDTH)).join(' ')}`);
  for (const kind of kinds) console.log(`  ${kind.padEnd(20)} ${servers.map((s) => cell(s.port, kind)).join(' ')}`);
  const resent = servers.map((s) => `${s.name} ${exchanges.filter((e) => e.serverPort === s.port && e.resent).length}`).join(', ');
  console.log(`  (n × p50 / p90 / max (the first); requests sent again before their answer, left out: ${resent})`);
}
