/**
 * The admin interface's options (`admin-socket`, `admin-port`, `admin-ip`, `admin-token`,
 * `admin-token-file`) and their rules: HTTP never without a token, a socket path both the
 * server and `turnpike admin` find, a loud warning when HTTP leaves loopback.
 */
import fs from 'node:fs';
import path from 'node:path';
import { effectiveAddress } from '../policy/peer-policy.js';
import { canonicalIp } from '../stun/ip.js';
import { ConfigError, located, type Origin } from './errors.js';
import type { AdminOptions } from './server-options.js';
import type { Settings } from './settings.js';

/** Shorter than this, a token can be guessed by someone who can knock on the port. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;
/** sun_path holds 108 bytes on Linux, the last one a NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
const DEFAULT_ADMIN_IP = '127.0.0.1';

export function adminOptions(s: Settings, warnings: string[], errors: ConfigError[]): AdminOptions | undefined {
  const at = (name: string): Origin => s.last(name)?.origin ?? {};
  const socket = s.string('admin-socket');
  if (socket !== undefined) checkSocketPath(socket, at('admin-socket'), errors);

  const hasPort = s.has('admin-port');
  if (!hasPort) {
    // The web admin page logs in with the token too.
    const unused = s.flag('web-admin') ? ['admin-ip'] : ['admin-ip', 'admin-token', 'admin-token-file'];
    for (const name of unused) {
      if (s.has(name)) warnings.push(located(at(name), `${name} has no effect without admin-port`));
    }
  }
  const http = hasPort ? httpOptions(s, at, warnings, errors) : undefined;
  return socket === undefined && http === undefined ? undefined : { socket, http };
}

function checkSocketPath(socket: string, origin: Origin, errors: ConfigError[]): void {
  if (!path.isAbsolute(socket)) {
    // The server and `turnpike admin` rarely start in the same folder.
    errors.push(new ConfigError(origin, 'admin-socket', `"${socket}" is not an absolute path`));
  } else if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
    errors.push(new ConfigError(origin, 'admin-socket', `longer than a Unix socket path can be (${MAX_SOCKET_PATH_BYTES} bytes)`));
  }
}

function httpOptions(s: Settings, at: (name: string) => Origin, warnings: string[], errors: ConfigError[]): AdminOptions['http'] {
  const address = s.string('admin-ip') ?? DEFAULT_ADMIN_IP;
  const token = readToken(s, at, errors);
  if (token === undefined) return undefined;
  if (!isLoopback(address)) {
    warnings.push(
      located(
        at('admin-ip'),
        `WARNING: admin-ip ${address} is not a loopback address: the admin interface (which can disconnect ` +
          'every client and stop the server) is reachable from the network, and its token travels in clear text',
      ),
    );
  }
  return { address, port: s.number('admin-port', 0), token };
}

/**
 * admin-token or admin-token-file, exactly one, long enough; undefined after an error, or
 * when neither is set and `optional` (the web admin page can log in with admin users instead).
 */
export function readToken(s: Settings, at: (name: string) => Origin, errors: ConfigError[], optional = false): string | undefined {
  const inline = s.string('admin-token');
  const file = s.string('admin-token-file');
  if (optional && inline === undefined && file === undefined) return undefined;
  if (inline !== undefined && file !== undefined) {
    errors.push(new ConfigError(at('admin-token-file'), 'admin-token-file', 'give admin-token or admin-token-file, not both'));
    return undefined;
  }
  if (inline === undefined && file === undefined) {
    errors.push(
      new ConfigError(at('admin-port'), 'admin-port', 'the HTTP admin interface needs admin-token or admin-token-file (try: openssl rand -hex 32)'),
    );
    return undefined;
  }
  const name = file === undefined ? 'admin-token' : 'admin-token-file';
  let token: string;
  try {
    // A file written by `echo` or an editor ends with a newline that is not part of the token.
    token = file === undefined ? (inline ?? '') : fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    errors.push(new ConfigError(at(name), name, `cannot read ${file}: ${(error as Error).message}`));
    return undefined;
  }
  if (token.length < MIN_ADMIN_TOKEN_LENGTH) {
    errors.push(new ConfigError(at(name), name, `the token must be ${MIN_ADMIN_TOKEN_LENGTH} characters or more (try: openssl rand -hex 32)`));
    return undefined;
  }
  return token;
}

/** 127.0.0.0/8 and ::1, also written as IPv4-mapped IPv6. */
export function isLoopback(ip: string): boolean {
  const { family, address } = effectiveAddress(ip);
  return family === 4 ? address.startsWith('127.') : canonicalIp(address) === '::1';
}
