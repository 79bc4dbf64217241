/**
 * Client certificates over DTLS, asked for when CA-file is set, as TLS asks for them: what the
 * CertificateRequest offers, the client's chain checked against the CA-file certificates, and
 * its CertificateVerify checked against the handshake so far. Whatever fails is a fatal alert.
 */
import { X509Certificate, constants, verify, type KeyObject } from 'node:crypto';
import { AlertDescription, DtlsAlert } from './record.js';
import { KeyUsageBit, OID, readBasicConstraints, readExtensions, readKeyUsage } from './x509-extensions.js';

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
/** Every certificate in a PEM text (cert's chain, CA-file's CAs); `what` names the file when there is none. */
export function pemCertificates(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`${what} holds no PEM certificate`);
  return blocks.map((block) => new X509Certificate(block));
}

/** Whether `issuer` issued `cert`: names and key identifiers match, and its key verifies the signature. */
const issued = (issuer: X509Certificate, cert: X509Certificate): boolean => cert.checkIssued(issuer) && cert.verify(issuer.publicKey);

function checkValidity(cert: X509Certificate, now: Date): void {
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
    throw new DtlsAlert(AlertDescription.CertificateExpired, `client certificate refused: "${cert.subject}" is valid from ${cert.validFrom} to ${cert.validTo}`);
  }
}

/** The extensions checkExtensions acts on; any other marked critical refuses the certificate. */
const PROCESSED: ReadonlySet<string> = new Set([OID.basicConstraints, OID.keyUsage, OID.extendedKeyUsage, OID.subjectKeyIdentifier, OID.authorityKeyIdentifier]);

function refuse(description: number, cert: X509Certificate, why: string): never {
  throw new DtlsAlert(description, `client certificate refused: "${cert.subject}" ${why}`);
}

/**
 * A certificate's extensions, for its place on the path (depth 0 is the client's, the others
 * issue the one below): what OpenSSL's chain and sslclient purpose checks require of them.
 */
function checkExtensions(cert: X509Certificate, depth: number): void {
  const extensions = readExtensions(cert.raw) ?? refuse(AlertDescription.BadCertificate, cert, 'has malformed extensions');
  const find = (oid: string) => extensions.find((e) => e.oid === oid)?.value;
  const unknown = extensions.find((e) => e.critical && !PROCESSED.has(e.oid));
  if (unknown) refuse(AlertDescription.UnsupportedCertificate, cert, `has a critical extension ${unknown.oid} that is not checked here`);
  const extendedUsage = cert.keyUsage; // the extended key usage OIDs, when the certificate has any
  if (extendedUsage && !extendedUsage.includes(CLIENT_AUTH) && !extendedUsage.includes(ANY_EXTENDED_KEY_USAGE)) refuse(AlertDescription.UnsupportedCertificate, cert, 'is not for client authentication');
  const keyUsage = find(OID.keyUsage);
  const keyUsageHas = keyUsage && (readKeyUsage(keyUsage) ?? refuse(AlertDescription.BadCertificate, cert, 'has a malformed keyUsage'));
  const constraints = find(OID.basicConstraints);
  const basic = constraints && (readBasicConstraints(constraints) ?? refuse(AlertDescription.BadCertificate, cert, 'has malformed basicConstraints'));
  if (depth === 0) {
    if (keyUsageHas && !keyUsageHas(KeyUsageBit.digitalSignature)) refuse(AlertDescription.UnsupportedCertificate, cert, 'has a keyUsage without digitalSignature');
    return;
  }
  if (!basic || !basic.ca) refuse(AlertDescription.BadCertificate, cert, 'is not a CA');
  // The CAs between this one and the client's certificate, self-issued ones counted too (stricter than OpenSSL).
  if (basic.pathLength !== undefined && depth - 1 > basic.pathLength) refuse(AlertDescription.BadCertificate, cert, `allows ${basic.pathLength} CAs below it, the chain has ${depth - 1}`);
  if (keyUsageHas && !keyUsageHas(KeyUsageBit.keyCertSign)) refuse(AlertDescription.BadCertificate, cert, 'has a keyUsage without keyCertSign');
  if (find(OID.nameConstraints)) refuse(AlertDescription.BadCertificate, cert, 'has name constraints, which DTLS does not check');
}

export class ClientCertificateAuthority {
  private constructor(private readonly trusted: readonly X509Certificate[]) {}

  /** From CA-file's PEM; throws when it holds no certificate. */
  static fromPem(pem: string): ClientCertificateAuthority {
    return new ClientCertificateAuthority(pemCertificates(pem, 'CA-file'));
  }

  readonly certificateTypes: readonly number[] = CERTIFICATE_TYPES;
  readonly schemes: readonly number[] = [...SCHEMES.keys()];

  /**
   * The client's public key, once its chain (its own certificate first) leads to a self-signed
   * CA-file certificate, and every certificate on that path passes `checkExtensions`: what
   * OpenSSL checks for TLS, or a refusal where it checks more (name constraints).
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
    const path = this.pathToRoot(certificates);
    path.forEach((certificate, depth) => {
      checkValidity(certificate, now);
      checkExtensions(certificate, depth);
    });
    return certificates[0]!.publicKey;
  }

  /**
   * From the client's certificate up to a self-signed CA-file certificate, each issued by the
   * next; issuers are CAs, from what the client sent or from CA-file. A CA-file certificate that
   * is not self-signed can be on the way but does not end it, as OpenSSL's default has it.
   */
  private pathToRoot(certificates: readonly X509Certificate[]): X509Certificate[] {
    const leaf = certificates[0]!;
    const path = [leaf];
    for (let current = leaf; path.length <= MAX_CHAIN; ) {
      if (issued(current, current) && this.trusted.some((t) => t.raw.equals(current.raw))) return path;
      const next = [...this.trusted, ...certificates].find((c) => !path.includes(c) && c.ca && issued(c, current));
      if (!next) break;
      path.push(next);
      current = next;
    }
    throw new DtlsAlert(AlertDescription.UnknownCa, `client certificate refused: "${leaf.subject}" (issuer "${leaf.issuer}") does not lead to a self-signed CA-file certificate`);
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
