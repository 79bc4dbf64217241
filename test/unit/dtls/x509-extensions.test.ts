// The DER reader for certificate extensions: what it finds in certificates OpenSSL made, and
// that malformed DER gives undefined rather than an exception or a wrong answer.
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyUsageBit, OID, readBasicConstraints, readExtensions, readKeyUsage } from '../../../src/net/dtls/x509-extensions.js';
import { issueCertificate, makeCertificate, type TestCertificate } from '../../support/certs.js';

const root = makeCertificate('root');
const made: TestCertificate[] = [root];
afterAll(() => made.forEach((c) => c.remove()));
const der = (c: TestCertificate): Buffer => new X509Certificate(fs.readFileSync(c.cert)).raw;
const issued = (extensions: string[]): Buffer => {
  const certificate = issueCertificate(root, 'subject', { extensions });
  made.push(certificate);
  return der(certificate);
};

/** A DER element: tag, the shortest length, content. */
function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}
const OID_BASIC = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x13]); // 2.5.29.19
const bytes = (...b: number[]) => Buffer.from(b);
/** A certificate's outline with these extensions: enough DER for the reader, not for X509Certificate. */
const certificateWith = (...extensions: Buffer[]) =>
  tlv(0x30, tlv(0x30, tlv(0x02, bytes(1)), tlv(0xa3, tlv(0x30, ...extensions))), tlv(0x30), tlv(0x03, bytes(0)));
const basic = (critical: boolean, value: Buffer) => tlv(0x30, OID_BASIC, ...(critical ? [tlv(0x01, bytes(0xff))] : []), tlv(0x04, value));

describe('readExtensions', () => {
  it('lists the extensions OpenSSL wrote, with OID, criticality and value', () => {
    const extensions = readExtensions(issued(['basicConstraints=critical,CA:TRUE,pathlen:2', 'keyUsage=digitalSignature,keyCertSign', '1.3.6.1.4.1.55555.1=critical,ASN1:UTF8String:x']));
    const byOid = new Map(extensions!.map((e) => [e.oid, e]));
    expect(byOid.get(OID.basicConstraints)?.critical).toBe(true);
    expect(readBasicConstraints(byOid.get(OID.basicConstraints)!.value)).toEqual({ ca: true, pathLength: 2 });
    expect(byOid.get(OID.keyUsage)?.critical).toBe(false);
    expect(byOid.get('1.3.6.1.4.1.55555.1')).toEqual({ oid: '1.3.6.1.4.1.55555.1', critical: true, value: Buffer.from([0x0c, 0x01, 0x78]) });
  });

  it('finds none in a certificate without any', () => {
    expect(readExtensions(tlv(0x30, tlv(0x30, tlv(0x02, bytes(1))), tlv(0x30), tlv(0x03, bytes(0))))).toEqual([]);
  });

  it('gives undefined for every truncation of a real certificate, and for trailing bytes', () => {
    const whole = issued(['basicConstraints=critical,CA:TRUE']);
    for (let length = 0; length < whole.length; length++) expect(readExtensions(whole.subarray(0, length))).toBeUndefined();
    expect(readExtensions(Buffer.concat([whole, bytes(0)]))).toBeUndefined();
  });

  it('gives undefined for DER that is not strict: indefinite or long-form short lengths, a repeated extension, a bad boolean, an empty list', () => {
    expect(readExtensions(certificateWith(basic(true, tlv(0x30))))).toHaveLength(1);
    const valid = certificateWith(basic(true, tlv(0x30)));
    expect(readExtensions(Buffer.concat([bytes(0x30, 0x80), valid.subarray(2), bytes(0, 0)]))).toBeUndefined();
    expect(readExtensions(Buffer.concat([bytes(0x30, 0x81, valid[1]!), valid.subarray(2)]))).toBeUndefined();
    expect(readExtensions(certificateWith(basic(true, tlv(0x30)), basic(false, tlv(0x30))))).toBeUndefined();
    expect(readExtensions(certificateWith(tlv(0x30, OID_BASIC, tlv(0x01, bytes(0x01)), tlv(0x04, tlv(0x30)))))).toBeUndefined();
    expect(readExtensions(certificateWith())).toBeUndefined();
  });
});

describe('readBasicConstraints', () => {
  it('reads CA and the path length, with no limit when it is absent', () => {
    expect(readBasicConstraints(tlv(0x30))).toEqual({ ca: false, pathLength: undefined });
    expect(readBasicConstraints(tlv(0x30, tlv(0x01, bytes(0xff))))).toEqual({ ca: true, pathLength: undefined });
    expect(readBasicConstraints(tlv(0x30, tlv(0x01, bytes(0xff)), tlv(0x02, bytes(0))))).toEqual({ ca: true, pathLength: 0 });
    expect(readBasicConstraints(tlv(0x30, tlv(0x01, bytes(0xff)), tlv(0x02, bytes(0x00, 0x80))))).toEqual({ ca: true, pathLength: 128 });
  });

  it('gives undefined for a negative or padded path length, extra fields, or another type', () => {
    expect(readBasicConstraints(tlv(0x30, tlv(0x02, bytes(0xff))))).toBeUndefined();
    expect(readBasicConstraints(tlv(0x30, tlv(0x02, bytes(0, 1))))).toBeUndefined();
    expect(readBasicConstraints(tlv(0x30, tlv(0x02, bytes(1)), tlv(0x02, bytes(1))))).toBeUndefined();
    expect(readBasicConstraints(tlv(0x04))).toBeUndefined();
  });
});

describe('readKeyUsage', () => {
  it('reads the bits OpenSSL set', () => {
    const extensions = readExtensions(issued(['keyUsage=critical,keyEncipherment,keyCertSign']))!;
    const has = readKeyUsage(extensions.find((e) => e.oid === OID.keyUsage)!.value)!;
    expect(has(KeyUsageBit.digitalSignature)).toBe(false);
    expect(has(KeyUsageBit.keyCertSign)).toBe(true);
    expect(has(2)).toBe(true); // keyEncipherment
    expect(has(8)).toBe(false); // decipherOnly: past the bits present
  });

  it('gives undefined for a bit string that is malformed', () => {
    expect(readKeyUsage(tlv(0x03))).toBeUndefined();
    expect(readKeyUsage(tlv(0x03, bytes(8, 0x80)))).toBeUndefined();
    expect(readKeyUsage(tlv(0x03, bytes(1)))).toBeUndefined();
    expect(readKeyUsage(tlv(0x04, bytes(0, 0x80)))).toBeUndefined();
  });
});
