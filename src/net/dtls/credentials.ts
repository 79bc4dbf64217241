/**
 * The server's certificate chain and key for DTLS, read from the same Node TLS options as TLS
 * (so they reload together), how the key signs a ServerKeyExchange, and the CA that clients'
 * certificates must be signed by when CA-file is set.
 */
import { constants, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { TlsOptions as NodeTlsOptions } from 'node:tls';
import { ClientCertificateAuthority, pemCertificates } from './client-certificates.js';
import { nativeDtlsKeys, type EcdsaSign } from './native-keys.js';
import type { SignatureKind } from './suites.js';

/** RFC 8446 SignatureScheme values, which TLS 1.2 uses as (hash, signature) pairs. */
export const SignatureScheme = {
  EcdsaP256Sha256: 0x0403,
  EcdsaP384Sha384: 0x0503,
  RsaPkcs1Sha256: 0x0401,
  RsaPssRsaeSha256: 0x0804,
} as const;


const text = (value: unknown, what: string): string => {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  throw new Error(`DTLS needs ${what} as one PEM text`);
};

export class DtlsCredentials {
  /** An EC key's signing context in native/dtls-keys.c, where it loads: made once per key. */
  private readonly ecdsa: EcdsaSign | undefined;

  private constructor(
    /** DER certificates, the server's first. */
    readonly chain: readonly Buffer[],
    private readonly key: KeyObject,
    readonly kind: SignatureKind,
    /** For an EC key, the one scheme its curve allows. */
    private readonly ecScheme: number,
    /** Set with CA-file: every client must then present a certificate it signed. */
    readonly clientAuthority: ClientCertificateAuthority | undefined,
  ) {
    const native = nativeDtlsKeys();
    if (kind === 'ecdsa' && 'ecdsa' in native) {
      const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
      this.ecdsa = native.ecdsa(pkcs8);
      pkcs8.fill(0); // OpenSSL holds the key now
    }
  }

  /** Throws when the pair cannot serve DTLS (unreadable, mismatched, or an unsupported key). */
  static fromTlsOptions(options: NodeTlsOptions): DtlsCredentials {
    const certificates = pemCertificates(text(options.cert, 'cert'), 'cert');
    const key = createPrivateKey({ key: text(options.key, 'pkey'), passphrase: options.passphrase });
    if (!certificates[0]!.checkPrivateKey(key)) throw new Error('pkey does not match the certificate');
    const chain = certificates.map((c) => c.raw);
    const clients = options.ca === undefined ? undefined : ClientCertificateAuthority.fromPem(text(options.ca, 'CA-file'));
    const type = key.asymmetricKeyType;
    if (type === 'rsa') return new DtlsCredentials(chain, key, 'rsa', 0, clients);
    if (type === 'ec') {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return new DtlsCredentials(chain, key, 'ecdsa', SignatureScheme.EcdsaP256Sha256, clients);
      if (curve === 'secp384r1') return new DtlsCredentials(chain, key, 'ecdsa', SignatureScheme.EcdsaP384Sha384, clients);
      throw new Error(`DTLS serves EC keys on P-256 or P-384, not ${curve}`);
    }
    throw new Error(`DTLS serves RSA and EC keys, not ${type}`);
  }

  /** The scheme to sign with, from those the client lists; undefined when none fits. */
  chooseScheme(offered: readonly number[]): number | undefined {
    // A client that lists nothing gets SHA-256 (every DTLS 1.2 client we know lists it).
    const accepts = (scheme: number) => offered.length === 0 || offered.includes(scheme);
    if (this.kind === 'ecdsa') return accepts(this.ecScheme) ? this.ecScheme : undefined;
    if (accepts(SignatureScheme.RsaPssRsaeSha256) && offered.length > 0) return SignatureScheme.RsaPssRsaeSha256;
    return accepts(SignatureScheme.RsaPkcs1Sha256) ? SignatureScheme.RsaPkcs1Sha256 : undefined;
  }

  sign(scheme: number, data: Buffer): Buffer {
    if (this.ecdsa && scheme === this.ecScheme) return this.ecdsa(scheme === SignatureScheme.EcdsaP384Sha384, data);
    switch (scheme) {
      // The key object alone, not in an options object (whose checks cost a third of the
      // signing): ECDSA signatures are DER by default, as TLS 1.2 sends them.
      case SignatureScheme.EcdsaP256Sha256:
        return sign('sha256', data, this.key);
      case SignatureScheme.EcdsaP384Sha384:
        return sign('sha384', data, this.key);
      case SignatureScheme.RsaPssRsaeSha256:
        return sign('sha256', data, { key: this.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
      default:
        return sign('sha256', data, this.key);
    }
  }
}
