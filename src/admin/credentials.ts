/**
 * `turnpike admin credentials`: TURN REST API credentials from the server's own configuration,
 * for a web app or a test: username `<expiry><separator><user>`, password
 * base64(HMAC-SHA1(secret, username)) with the first configured secret, and an `iceServers`
 * entry for RTCPeerConnection. Not in coturn.
 */
import net from 'node:net';
import os from 'node:os';
import { restPassword } from '../auth/rest-api.js';
import { ConfigError, loadConfig, type ServerOptions } from '../config/index.js';
import { AdminError, UsageError } from './errors.js';
import { openStore } from './open-store.js';
import type { AdminIo } from './turnadmin.js';
import { checkUserName, quoted } from './validate.js';

const PREFIX = 'turnpike admin credentials';
const DEFAULT_TTL_SECONDS = 86400;

export const CREDENTIALS_HELP = `Usage: turnpike admin credentials [--user USER] [--ttl SECONDS] [--host HOST] [server options]

Prints TURN REST API credentials that the configured server accepts:
	username: <now + ttl><rest-api-separator><user>  (just <now + ttl> without --user)
	password: base64(HMAC-SHA1(secret, username))
	iceServers: [{"urls":["turn:HOST:PORT?transport=udp"],"username":…,"credential":…}]

	--user USER	the user part of the name
	--ttl SECONDS	how long the credentials are valid (default ${DEFAULT_TTL_SECONDS})
	--host HOST	the host in the URL (default: the first external-ip, else the first
			listening-ip, else this machine's host name)

The server options are turnserver's: -c FILE (or the usual turnserver.conf search), or -n and
flags such as --static-auth-secret S --realm R --listening-port P. The secret is the first
static-auth-secret, else the realm's first secret in the userdb, psql-userdb or mysql-userdb (turnadmin -s).
`;

interface CredentialsArgs {
  readonly user: string | undefined;
  readonly ttl: number;
  readonly host: string | undefined;
  readonly serverArgs: string[];
}

export async function runCredentials(argv: readonly string[], io: AdminIo, nowMs: () => number = Date.now): Promise<number> {
  try {
    const args = parseArgs(argv);
    if (args === 'help') {
      io.out(CREDENTIALS_HELP.trimEnd());
      return 0;
    }
    const options = loadServerOptions(args.serverArgs, io);
    if (args.user !== undefined) checkUserName(args.user);
    const expiry = Math.floor(nowMs() / 1000) + args.ttl;
    const username = args.user === undefined ? String(expiry) : `${expiry}${options.restApiSeparator}${args.user}`;
    const credential = restPassword(await firstSecret(options), username);
    const url = `turn:${urlHost(args.host ?? defaultHost(options))}:${options.listeningPort}?transport=udp`;
    io.out(`username: ${username}`);
    io.out(`password: ${credential}`);
    io.out(`iceServers: ${JSON.stringify([{ urls: [url], username, credential }])}`);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof UsageError) {
      io.err(`${PREFIX}: ${message}`);
      io.err('Usage: turnpike admin credentials [--user USER] [--ttl SECONDS] [--host HOST] [server options]');
      return 2;
    }
    io.err(`${PREFIX}: ${error instanceof AdminError ? '' : 'unexpected error: '}${message}`);
    return 1;
  }
}

/** Takes out --user, --ttl and --host (`--x v` or `--x=v`); everything else is the server's. */
function parseArgs(argv: readonly string[]): CredentialsArgs | 'help' {
  const own = new Map<string, string>();
  const serverArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? '';
    if (word === '--help' || word === '-h') return 'help';
    const m = /^--(user|ttl|host)(?:=(.*))?$/s.exec(word);
    if (!m) {
      serverArgs.push(word);
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new UsageError(`option --${m[1]} needs a value`);
    own.set(m[1] ?? '', value);
  }
  const ttlText = own.get('ttl') ?? String(DEFAULT_TTL_SECONDS);
  const ttl = Number(ttlText);
  if (!/^\d+$/.test(ttlText) || ttl < 1 || !Number.isSafeInteger(ttl)) {
    throw new AdminError(`--ttl: "${ttlText}" is not a whole number of seconds above 0`);
  }
  const host = own.get('host');
  if (host !== undefined && host.trim() === '') throw new AdminError('--host is empty');
  return { user: own.get('user'), ttl, host, serverArgs };
}

function loadServerOptions(serverArgs: readonly string[], io: AdminIo): ServerOptions {
  try {
    const loaded = loadConfig(serverArgs);
    for (const warning of loaded.warnings) io.err(`${PREFIX}: warning: ${warning}`);
    return loaded.options;
  } catch (error) {
    if (error instanceof ConfigError) throw new AdminError(`configuration: ${error.message}`);
    throw error;
  }
}

/** The first static-auth-secret, else the realm's oldest secret in the userdb (or psql-userdb, mysql-userdb). */
async function firstSecret(options: ServerOptions): Promise<string> {
  if (!options.useAuthSecret) {
    throw new AdminError(
      'the configuration does not turn on the TURN REST API (use-auth-secret or static-auth-secret)',
    );
  }
  const configured = options.staticAuthSecrets[0];
  if (configured !== undefined) return configured;
  const { psqlUserDb: psql, mysqlUserDb: mysql } = options;
  if (options.userDb === undefined && psql === undefined && mysql === undefined) {
    throw new AdminError(
      'use-auth-secret is set, but there is no static-auth-secret and no userdb to read secrets from',
    );
  }
  const store = await openStore({ db: options.userDb, psql, mysql }, 'read');
  try {
    const secret = (await store.secretsInOrder(options.realm))[0];
    if (secret === undefined) {
      throw new AdminError(
        `realm ${quoted(options.realm)} has no secret in ${store.where} ` +
          `(add one: turnadmin -s SECRET -r REALM ${options.userDb !== undefined ? `-b ${options.userDb}` : mysql !== undefined ? '-M CONNECTION' : '-e CONNECTION'})`,
      );
    }
    return secret;
  } catch (error) {
    throw error instanceof AdminError ? error : store.errorOf(error);
  } finally {
    await store.close();
  }
}

/** external-ip is what clients reach; a listening-ip of "any" says nothing, so skip it. */
/** The name clients reach the server by: the first external-ip, else a listening address, else the host name. */
export function defaultHost(options: ServerOptions): string {
  const external = [...options.externalIps.values()][0];
  if (external !== undefined) return external;
  const listening = options.listeningIps.find((ip) => ip !== '0.0.0.0' && ip !== '::');
  return listening ?? os.hostname();
}

function urlHost(host: string): string {
  return net.isIPv6(host) ? `[${host}]` : host;
}
