/**
 * Where `turnpike admin` finds the server: `--socket PATH`, or `--url` with `--token` (or
 * TURNPIKE_ADMIN_TOKEN), else the admin options of the turnserver.conf the server reads
 * (`-c FILE`, else coturn's search path), the socket first since it needs no token.
 */
import { AdminError, UsageError } from '../admin/errors.js';
import { ConfigError, loadConfig } from '../config/index.js';
import type { AdminOptions } from '../config/server-options.js';
import { formatTransportAddress } from '../stun/ip.js';
import type { AdminEndpoint } from './admin-client.js';

export const TOKEN_ENV = 'TURNPIKE_ADMIN_TOKEN';

export interface EndpointFlags {
  readonly socket?: string;
  readonly url?: string;
  readonly token?: string;
  /** `-c FILE`. */
  readonly config?: string;
}

export function resolveEndpoint(flags: EndpointFlags, env: NodeJS.ProcessEnv = process.env): AdminEndpoint {
  if (flags.socket !== undefined && flags.url !== undefined) throw new UsageError('give --socket or --url, not both');
  if (flags.socket !== undefined) return { kind: 'socket', path: flags.socket };
  const token = flags.token ?? env[TOKEN_ENV];
  if (flags.url !== undefined) {
    if (token === undefined) throw new UsageError(`--url needs --token or ${TOKEN_ENV}`);
    return { kind: 'http', url: adminUrl(flags.url), token };
  }
  const { admin, file } = configuredAdmin(flags.config);
  if (admin?.socket !== undefined) return { kind: 'socket', path: admin.socket };
  if (admin?.http !== undefined) {
    const { address, port } = admin.http;
    return { kind: 'http', url: new URL(`http://${formatTransportAddress({ address: reachable(address), port })}`), token: token ?? admin.http.token };
  }
  const how = 'give --socket PATH, or --url URL with --token TOKEN (see docs/admin.md)';
  throw new AdminError(
    file === undefined
      ? `no turnserver.conf found on the search path to read admin-socket or admin-port from: give -c FILE, or ${how}`
      : `${file} sets neither admin-socket nor admin-port: set one there (and restart the server), or ${how}`,
  );
}

/** The admin options of the server's configuration, and the file they came from. */
function configuredAdmin(file: string | undefined): { admin: AdminOptions | undefined; file: string | undefined } {
  try {
    const loaded = loadConfig(file === undefined ? [] : ['-c', file]);
    return { admin: loaded.options.admin, file: loaded.configFile };
  } catch (error) {
    if (error instanceof ConfigError) throw new AdminError(`configuration: ${error.message}`);
    throw error;
  }
}

function adminUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url ${text} is not a URL (http://127.0.0.1:PORT)`);
  }
  if (url.protocol !== 'http:' || (url.pathname !== '/' && url.pathname !== '')) {
    throw new UsageError(`--url ${text}: give http://HOST:PORT, without a path`);
  }
  return url;
}

/** A server listening on every address is reached on loopback. */
function reachable(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  return address === '::' ? '::1' : address;
}
