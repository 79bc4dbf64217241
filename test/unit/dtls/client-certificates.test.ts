// Which client certificates DTLS takes with CA-file set, with certificates OpenSSL made, and
// which CertificateVerify signatures it believes.
import { spawnSync } from 'node:child_process';
import { X509Certificate, constants, generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
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

/**
 * Whether `openssl verify` takes the chain as Node's TLS server does a client's: CA-file as the
 * trust store, the rest of the chain as untrusted intermediates, the sslclient purpose.
 */
function opensslAccepts(caFile: TestCertificate[], [leaf, ...intermediates]: TestCertificate[]): boolean {
  const dir = fs.mkdtempSync(path.join(leaf!.dir, 'verify-'));
  const write = (name: string, certificates: TestCertificate[]) => {
    fs.writeFileSync(path.join(dir, name), certificates.map((c) => fs.readFileSync(c.cert, 'utf8')).join(''));
    return path.join(dir, name);
  };
  const untrusted = intermediates.length > 0 ? ['-untrusted', write('untrusted.pem', intermediates)] : [];
  return spawnSync('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', write('ca.pem', caFile), ...untrusted, leaf!.cert]).status === 0;
}

/** Both OpenSSL's verdict and verifyChain's on the chain (client's certificate first). */
function verdicts(caFile: TestCertificate[], chain: TestCertificate[]): { openssl: boolean; dtls: boolean } {
  return { openssl: opensslAccepts(caFile, chain), dtls: refusal(authority(...caFile), chain.map(der)) === undefined };
}

describe('client certificate chains where OpenSSL and DTLS agree', () => {
  const both = (accepted: boolean) => ({ openssl: accepted, dtls: accepted });
  const ca = ['basicConstraints=critical,CA:TRUE'];

  it('accepts a certificate the root signed, directly or through one intermediate', () => {
    expect(verdicts([root], [issue(root, 'direct-agreed')])).toEqual(both(true));
    expect(verdicts([root], [issue(intermediate, 'below-agreed'), intermediate])).toEqual(both(true));
  });

  it('refuses a CA below an intermediate whose pathlen:0 forbids one', () => {
    const limited = issue(root, 'limited', ['basicConstraints=critical,CA:TRUE,pathlen:0']);
    const sub = issue(limited, 'sub-ca', ca);
    expect(verdicts([root], [issue(sub, 'too-deep'), sub, limited])).toEqual(both(false));
    expect(verdicts([root], [issue(limited, 'deep-enough'), limited])).toEqual(both(true));
  });

  it('refuses a certificate whose CA-file holds only its issuer, an intermediate, not the root', () => {
    expect(verdicts([intermediate], [issue(intermediate, 'partial')])).toEqual(both(false));
    expect(verdicts([intermediate, root], [issue(intermediate, 'whole')])).toEqual(both(true));
  });

  it('refuses a certificate outside a CA\'s name constraints', () => {
    const constrained = issue(root, 'constrained', [...ca, 'nameConstraints=critical,permitted;DNS:inside.test']);
    expect(verdicts([root], [issue(constrained, 'outside', ['subjectAltName=DNS:outside.test']), constrained])).toEqual(both(false));
  });

  it('refuses a certificate whose keyUsage leaves out digitalSignature', () => {
    expect(verdicts([root], [issue(root, 'encipher-only', ['keyUsage=critical,keyEncipherment'])])).toEqual(both(false));
    expect(verdicts([root], [issue(root, 'signer', ['keyUsage=critical,digitalSignature'])])).toEqual(both(true));
  });

  it('refuses a certificate with a critical extension it does not know', () => {
    expect(verdicts([root], [issue(root, 'unknown-critical', ['1.3.6.1.4.1.55555.1=critical,ASN1:UTF8String:x'])])).toEqual(both(false));
    expect(verdicts([root], [issue(root, 'unknown-noncritical', ['1.3.6.1.4.1.55555.1=ASN1:UTF8String:x'])])).toEqual(both(true));
  });

  it('refuses an intermediate whose extended key usage leaves out client authentication', () => {
    const serverCa = issue(root, 'server-ca', [...ca, 'extendedKeyUsage=serverAuth']);
    expect(verdicts([root], [issue(serverCa, 'under-server-ca'), serverCa])).toEqual(both(false));
  });
});

describe('where DTLS refuses and OpenSSL accepts (fail closed)', () => {
  it('refuses any chain through a CA with name constraints, even a certificate inside them', () => {
    const constrained = issue(root, 'constrained-ok', ['basicConstraints=critical,CA:TRUE', 'nameConstraints=critical,permitted;DNS:inside.test']);
    expect(verdicts([root], [issue(constrained, 'inside', ['subjectAltName=DNS:inside.test']), constrained])).toEqual({ openssl: true, dtls: false });
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
