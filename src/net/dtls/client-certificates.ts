/**
 * Client certificates over DTLS, asked for when CA-file is set, as TLS asks for them: what the
 * CertificateRequest offers, the client's chain checked against the CA-file certificates, and
 * its CertificateVerify checked against the handshake so far. Whatever fails is a fatal alert.
 */
import { X509Certificate, constants, verify, type KeyObject } from 'node:crypto';
import { AlertDescription, DtlsAlert } from './record.js';

/** RFC 5246 §7.4.4 ClientCertificateType: rsa_sign, ecdsa_sign. */
const CERTIFICATE_TYPES = [1, 64] as const;

interface Scheme {
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  readonly key: 'ec' | 'rsa';
  readonly pss?: boolean;
}

/** The signature schemes a client may sign its CertificateVerify with, in order of preference. */
const SCHEMES: ReadonlyMap<number, Scheme> = new Map([
  [0x0403, { hash: 'sha256', key: 'ec' }],
  [0x0503, { hash: 'sha384', key: 'ec' }],
  [0x0603, { hash: 'sha512', key: 'ec' }],
  [0x0804, { hash: 'sha256', key: 'rsa', pss: true }],
  [0x0805, { hash: 'sha384', key: 'rsa', pss: true }],
  [0x0806, { hash: 'sha512', key: 'rsa', pss: true }],
  [0x0401, { hash: 'sha256', key: 'rsa' }],
  [0x0501, { hash: 'sha384', key: 'rsa' }],
  [0x0601, { hash: 'sha512', key: 'rsa' }],
]);

/** Certificates between the client's and a CA-file one; OpenSSL's clients stop at 9 too. */
const MAX_CHAIN = 10;
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Whether `issuer` issued `cert`: names and key identifiers match, and its key verifies the signature. */
const issued = (issuer: X509Certificate, cert: X509Certificate): boolean => cert.checkIssued(issuer) && cert.verify(issuer.publicKey);

function checkValidity(cert: X509Certificate, now: Date): void {
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
    throw new DtlsAlert(AlertDescription.CertificateExpired, `client certificate refused: "${cert.subject}" is valid from ${cert.validFrom} to ${cert.validTo}`);
  }
}

export class ClientCertificateAuthority {
  private constructor(private readonly trusted: readonly X509Certificate[]) {}

  /** From CA-file's PEM; throws when it holds no certificate. */
  static fromPem(pem: string): ClientCertificateAuthority {
    const blocks = pem.match(PEM_CERTIFICATE) ?? [];
    if (blocks.length === 0) throw new Error('CA-file holds no PEM certificate');
    return new ClientCertificateAuthority(blocks.map((block) => new X509Certificate(block)));
  }

  readonly certificateTypes: readonly number[] = CERTIFICATE_TYPES;
  readonly schemes: readonly number[] = [...SCHEMES.keys()];

  /**
   * The client's public key, once its chain (its own certificate first) leads to a CA-file
   * certificate: each link signed by the next, every certificate within its dates, each issuer
   * a CA, and the client's certificate good for client authentication when it says what for.
   */
  verifyChain(chain: readonly Buffer[], now: Date): KeyObject {
    if (chain.length === 0) throw new DtlsAlert(AlertDescription.HandshakeFailure, 'client certificate refused: the client sent none');
    if (chain.length > MAX_CHAIN) throw new DtlsAlert(AlertDescription.BadCertificate, `client certificate refused: a chain of ${chain.length}`);
    let certificates: X509Certificate[];
    try {
      certificates = chain.map((der) => new X509Certificate(der));
    } catch {
      throw new DtlsAlert(AlertDescription.BadCertificate, 'client certificate refused: unreadable');
    }
    const leaf = certificates[0]!;
    const usage = leaf.keyUsage; // the extended key usage OIDs, when the certificate has any
    if (usage && !usage.includes(CLIENT_AUTH) && !usage.includes(ANY_EXTENDED_KEY_USAGE)) {
      throw new DtlsAlert(AlertDescription.UnsupportedCertificate, `client certificate refused: "${leaf.subject}" is not for client authentication`);
    }
    let current = leaf;
    for (let links = 0; links < MAX_CHAIN; links++) {
      checkValidity(current, now);
      // A CA-file certificate may be the client's own (self-signed, trusted as it is).
      const anchor = this.trusted.find((t) => (t.ca || t.raw.equals(leaf.raw)) && issued(t, current));
      if (anchor) {
        checkValidity(anchor, now);
        return leaf.publicKey;
      }
      const next = certificates.find((c) => c !== current && c.ca && issued(c, current));
      if (!next) break;
      current = next;
    }
    throw new DtlsAlert(AlertDescription.UnknownCa, `client certificate refused: "${leaf.subject}" (issuer "${leaf.issuer}") is not signed by CA-file`);
  }

  /** Checks the CertificateVerify signature over the handshake messages before it. */
  verifySignature(key: KeyObject, scheme: number, signature: Buffer, transcript: Buffer): void {
    const s = SCHEMES.get(scheme);
    if (!s || s.key !== key.asymmetricKeyType) {
      throw new DtlsAlert(AlertDescription.IllegalParameter, `CertificateVerify: scheme 0x${scheme.toString(16)} does not fit a ${key.asymmetricKeyType} key`);
    }
    let valid: boolean;
    try {
      const options = s.pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } : { key, dsaEncoding: 'der' as const };
      valid = verify(s.hash, transcript, options, signature);
    } catch {
      valid = false;
    }
    if (!valid) throw new DtlsAlert(AlertDescription.DecryptError, 'CertificateVerify does not verify');
  }
}
