import { describe, expect, it } from 'vitest';
import { parseProxyHeader } from '../../../src/net/proxy-protocol.js';

const V2 = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

function v2(command: number, familyProtocol: number, body: Buffer): Buffer {
  const head = Buffer.from([0x20 | command, familyProtocol, 0, 0]);
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([V2, head, body]);
}

describe('PROXY protocol header', () => {
  it('v1: TCP4 and TCP6 name the client; UNKNOWN names none', () => {
    const line = Buffer.from('PROXY TCP4 203.0.113.7 192.0.2.1 51000 3478\r\nSTUN');
    expect(parseProxyHeader(line)).toEqual({ kind: 'complete', length: line.length - 4, client: { family: 4, address: '203.0.113.7', port: 51000 } });
    const six = Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 51000 3478\r\n');
    expect(parseProxyHeader(six)).toMatchObject({ kind: 'complete', client: { family: 6, address: '2001:db8::7', port: 51000 } });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({ kind: 'complete', length: 15 });
  });

  it('v2: PROXY over IPv4 and IPv6 names the client; LOCAL (a health check) names none', () => {
    const body4 = Buffer.from([203, 0, 113, 7, 192, 0, 2, 1, 0xc7, 0x38, 0x0d, 0x96]);
    expect(parseProxyHeader(Buffer.concat([v2(1, 0x11, body4), Buffer.from('rest')]))).toEqual({
      kind: 'complete', length: 28, client: { family: 4, address: '203.0.113.7', port: 51000 },
    });
    const body6 = Buffer.alloc(36);
    Buffer.from('20010db8000000000000000000000007', 'hex').copy(body6, 0);
    body6.writeUInt16BE(51000, 32);
    expect(parseProxyHeader(v2(1, 0x21, body6))).toMatchObject({ client: { family: 6, address: '2001:db8::7', port: 51000 } });
    expect(parseProxyHeader(v2(0, 0x00, Buffer.alloc(0)))).toEqual({ kind: 'complete', length: 16 });
  });

  it('waits for the rest of a header cut short, byte by byte', () => {
    const whole = Buffer.from('PROXY TCP4 203.0.113.7 192.0.2.1 51000 3478\r\n');
    for (let i = 1; i < whole.length; i++) expect(parseProxyHeader(whole.subarray(0, i)).kind).toBe('incomplete');
    const binary = v2(1, 0x11, Buffer.alloc(12));
    for (let i = 1; i < binary.length; i++) expect(parseProxyHeader(binary.subarray(0, i)).kind).toBe('incomplete');
  });

  it('refuses what is not a header, or not one it can use', () => {
    const invalid = (data: Buffer | string) => expect(parseProxyHeader(Buffer.from(data)).kind).toBe('invalid');
    invalid(Buffer.from([0x00, 0x01, 0x00, 0x00])); // a STUN Binding, no header first
    invalid('PROXY TCP4 not-an-ip 192.0.2.1 51000 3478\r\n');
    invalid('PROXY TCP4 2001:db8::7 192.0.2.1 51000 3478\r\n');
    invalid('PROXY TCP4 203.0.113.7 192.0.2.1 70000 3478\r\n');
    invalid(`PROXY TCP4 ${'9'.repeat(120)}`); // no CRLF within 107 bytes
    invalid(v2(1, 0x12, Buffer.alloc(12))); // UDP over IPv4
    invalid(v2(2, 0x11, Buffer.alloc(12))); // an unknown command
    const long = v2(1, 0x11, Buffer.alloc(12));
    long.writeUInt16BE(4096, 14);
    invalid(long);
  });
});
