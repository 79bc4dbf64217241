// Which client certificates DTLS takes with CA-file set, with certificates OpenSSL made, and
// which CertificateVerify signatures it believes.
import { X509Certificate, constants, generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ClientCertificateAuthority } from '../../../src/net/dtls/client-certificates.js';
import { AlertDescription, DtlsAlert } from '../../../src/net/dtls/record.js';
import { issueCertificate, makeCertificate, type TestCertificate } from '../../support/certs.js';

const root = makeCertificate('root');
const intermediate = issueCertificate(root, 'intermediate', { extensions: ['basicConstraints=critical,CA:TRUE'] });
const notCa = issueCertificate(root, 'not-a-ca');
const made: TestCertificate[] = [root, intermediate, notCa];
const issue = (issuer: TestCertificate, name: string, extensions: string[] = []): TestCertificate => {
  const certificate = issueCertificate(issuer, name, { extensions });
  made.push(certificate);
  return certificate;
};
afterAll(() => made.forEach((c) => c.remove()));

const der = (c: TestCertificate): Buffer => new X509Certificate(fs.readFileSync(c.cert)).raw;
const authority = (...trusted: TestCertificate[]) => ClientCertificateAuthority.fromPem(trusted.map((c) => fs.readFileSync(c.cert, 'utf8')).join(''));

/** The alert verifyChain refuses `chain` with; undefined when it accepts it. */
function refusal(ca: ClientCertificateAuthority, chain: Buffer[], now = new Date()): number | undefined {
  try {
    ca.verifyChain(chain, now);
    return undefined;
  } catch (error) {
    if (error instanceof DtlsAlert) return error.description;
    throw error;
  }
}

describe('client certificate chains', () => {
  it('accepts a certificate the CA signed, directly or through an intermediate CA the client sends', () => {
    const ca = authority(root);
    expect(refusal(ca, [der(issue(root, 'direct'))])).toBeUndefined();
    expect(refusal(ca, [der(issue(intermediate, 'below')), der(intermediate)])).toBeUndefined();
  });

  it('accepts a self-signed certificate that CA-file holds itself, as TLS does', () => {
    const own = makeCertificate('own');
    made.push(own);
    expect(refusal(authority(root, own), [der(own)])).toBeUndefined();
  });

  it('refuses no certificate, a stranger\'s, and one whose intermediate is missing', () => {
    const ca = authority(root);
    const stranger = makeCertificate('stranger');
    made.push(stranger);
    expect(refusal(ca, [])).toBe(AlertDescription.HandshakeFailure);
    expect(refusal(ca, [der(stranger)])).toBe(AlertDescription.UnknownCa);
    expect(refusal(ca, [der(issue(stranger, 'strangers-client'))])).toBe(AlertDescription.UnknownCa);
    expect(refusal(ca, [der(issue(intermediate, 'orphan'))])).toBe(AlertDescription.UnknownCa);
  });

  it('refuses a chain through a certificate that is not a CA, in the chain or in CA-file', () => {
    const below = der(issue(notCa, 'below-not-ca'));
    expect(refusal(authority(root), [below, der(notCa)])).toBe(AlertDescription.UnknownCa);
    expect(refusal(authority(notCa), [below])).toBe(AlertDescription.UnknownCa);
  });

  it('refuses a certificate outside its dates', () => {
    const later = new Date(Date.now() + 3 * 24 * 3600_000); // the test certificates last 2 days
    expect(refusal(authority(root), [der(issue(root, 'dated'))], later)).toBe(AlertDescription.CertificateExpired);
  });

  it('refuses a certificate whose extended key usage leaves out client authentication', () => {
    const ca = authority(root);
    expect(refusal(ca, [der(issue(root, 'server-only', ['extendedKeyUsage=serverAuth']))])).toBe(AlertDescription.UnsupportedCertificate);
    expect(refusal(ca, [der(issue(root, 'client', ['extendedKeyUsage=serverAuth,clientAuth']))])).toBeUndefined();
  });

  it('refuses garbage as a certificate', () => {
    expect(refusal(authority(root), [Buffer.from('not a certificate')])).toBe(AlertDescription.BadCertificate);
  });
});

describe('CertificateVerify signatures', () => {
  const ca = authority(root);
  const transcript = Buffer.from('the handshake messages so far');
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };

  /** The alert verifySignature refuses with; undefined when it believes the signature. */
  const check = (key: typeof ec.publicKey, scheme: number, signature: Buffer): number | undefined => {
    try {
      ca.verifySignature(key, scheme, signature, transcript);
      return undefined;
    } catch (error) {
      if (error instanceof DtlsAlert) return error.description;
      throw error;
    }
  };

  it('believes ECDSA, RSA-PSS and RSA PKCS#1 signatures over the transcript', () => {
    expect(check(ec.publicKey, 0x0403, sign('sha256', transcript, ec.privateKey))).toBeUndefined();
    expect(check(ec.publicKey, 0x0503, sign('sha384', transcript, ec.privateKey))).toBeUndefined();
    expect(check(rsa.publicKey, 0x0804, sign('sha256', transcript, { key: rsa.privateKey, ...pss }))).toBeUndefined();
    expect(check(rsa.publicKey, 0x0401, sign('sha256', transcript, rsa.privateKey))).toBeUndefined();
  });

  it('refuses a signature over something else, by another key, or under a scheme that does not fit the key', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(check(ec.publicKey, 0x0403, sign('sha256', Buffer.from('something else'), ec.privateKey))).toBe(AlertDescription.DecryptError);
    expect(check(ec.publicKey, 0x0403, sign('sha256', transcript, other.privateKey))).toBe(AlertDescription.DecryptError);
    expect(check(ec.publicKey, 0x0403, Buffer.from('garbage'))).toBe(AlertDescription.DecryptError);
    expect(check(ec.publicKey, 0x0804, sign('sha256', transcript, ec.privateKey))).toBe(AlertDescription.IllegalParameter);
    expect(check(rsa.publicKey, 0x0807, Buffer.alloc(64))).toBe(AlertDescription.IllegalParameter); // Ed25519: not offered
  });
});
