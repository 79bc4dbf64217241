/**
 * Whether, and how, the server serves DTLS, from coturn's options: on unless `no-dtls`, and
 * only with a certificate (the TLS one, and TLS's CA-file for clients' certificates). Says why
 * in the log when it is not served.
 */
import type { ServerOptions } from '../../config/server-options.js';
import type { TurnEngine } from '../../turn/engine.js';
import type { Logger } from '../../log/logger-interface.js';
import { hasCertificate, secureOptions } from '../tls-context.js';
import { nativeRecordGcm } from './gcm.js';
import { nativeDtlsKeys } from './native-keys.js';
import { DEFAULT_DTLS_LIMITS, DtlsService } from './service.js';

export function startDtls(options: ServerOptions, engine: TurnEngine, logger: Logger, cookieSecret?: Buffer): DtlsService | undefined {
  if (options.noDtls) return undefined;
  if (!hasCertificate(options.tls)) {
    logger.warn('DTLS is not served: set cert and pkey (or no-dtls to silence this)');
    return undefined;
  }
  // With CA-file, the options carry its CA, and DTLS asks every client for a certificate it signed.
  // An allocation cannot outlive max-allocate-lifetime without a Refresh, which is a record.
  return new DtlsService(secureOptions(options.tls), engine, logger, {
    ...DEFAULT_DTLS_LIMITS,
    maxAllocateTimeoutMs: options.maxAllocateTimeout * 1000,
    idleTimeoutMs: options.maxAllocateLifetime * 1000,
  }, Date.now, cookieSecret);
}

/**
 * Which AES-GCM DTLS records use (gcm.ts), said once at start when DTLS is served, and the
 * handshake's X25519 and PRF when they cannot be native (native-keys.ts).
 */
export function logDtlsRecordCrypto(options: ServerOptions, logger: Logger): void {
  if (options.noDtls || !hasCertificate(options.tls)) return;
  const native = nativeRecordGcm();
  if ('gcm' in native) logger.info('DTLS records: native AES-GCM (OpenSSL EVP, one context per key)');
  else logger.warn(`native DTLS AES-GCM unavailable: ${native.unavailable}; using node:crypto`);
  const keys = nativeDtlsKeys();
  if ('unavailable' in keys) logger.warn(`native DTLS X25519 and PRF unavailable: ${keys.unavailable}; using node:crypto`);
}
