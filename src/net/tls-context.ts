/**
 * TLS settings from coturn's options (cert, pkey, pkey-pwd, cipher-list, CA-file,
 * ec-curve-name, dh-file, no-tlsv1*), read from disk so that they can be read again on reload.
 */
import { readFileSync } from 'node:fs';
import type { SecureVersion, TlsOptions as NodeTlsOptions } from 'node:tls';
import { createSecureContext } from 'node:tls';
import type { TlsOptions } from '../config/server-options.js';

/** RFC 7443 ALPN labels, most wanted first. */
export const TURN_ALPN = ['stun.turn', 'stun.nat-discovery'] as const;

export const hasCertificate = (tls: TlsOptions): boolean => tls.cert !== undefined && tls.pkey !== undefined;

/**
 * The lowest protocol version allowed. TLS 1.0 and 1.1 stay off whatever the flags say
 * (coturn allows them unless told not to): they are broken, and OpenSSL 3 refuses them anyway.
 */
function minVersion(tls: TlsOptions): SecureVersion {
  return tls.noTlsv1_2 ? 'TLSv1.3' : 'TLSv1.2';
}

/** Node TLS server options; throws with the file's name when one cannot be read or used. */
export function secureOptions(tls: TlsOptions): NodeTlsOptions {
  if (!tls.cert || !tls.pkey) throw new Error('TLS needs both cert and pkey');
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`cannot read ${what} ${file}: ${(error as Error).message}`);
    }
  };
  const options: NodeTlsOptions = {
    cert: read(tls.cert, 'cert'),
    key: read(tls.pkey, 'pkey'),
    passphrase: tls.pkeyPassword,
    minVersion: minVersion(tls),
  };
  if (tls.cipherList && tls.cipherList !== 'DEFAULT') options.ciphers = tls.cipherList;
  if (tls.ecCurveName) options.ecdhCurve = tls.ecCurveName;
  if (tls.dhFile) options.dhparam = read(tls.dhFile, 'dh-file');
  if (tls.caFile) {
    options.ca = read(tls.caFile, 'CA-file');
    options.requestCert = true;
    options.rejectUnauthorized = true;
  }
  // Checks key, certificate and passphrase now, so a bad file is reported at start or reload.
  try {
    createSecureContext(options);
  } catch (error) {
    throw new Error(`cannot use cert ${tls.cert} with pkey ${tls.pkey}: ${(error as Error).message}`);
  }
  return options;
}

/** Picks a TURN ALPN label the client offers; a client that offers none is served anyway. */
export function chooseAlpn({ protocols }: { protocols: string[] }): string | undefined {
  return TURN_ALPN.find((label) => protocols.includes(label));
}
