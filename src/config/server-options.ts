/**
 * The typed, validated options the server runs with. Everything outside src/config reads
 * this and nothing else: how a value got here (file, flag, default) is config's business.
 */

export interface StaticUser {
  readonly name: string;
  /** The long-term key MD5(name:realm:password): from a password, or given as `0x…`. */
  readonly key: Buffer;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'verbose' | 'debug';

export interface ServerOptions {
  /** Addresses to listen on. Empty: one socket per local address of each family. */
  readonly listeningIps: readonly string[];
  readonly listeningPort: number;
  readonly tlsListeningPort: number;
  /** Relay addresses. Empty: the listening address of the same family. */
  readonly relayIps: readonly string[];
  /** `external-ip`: public address per relay (private) address; '' key = any. */
  readonly externalIps: ReadonlyMap<string, string>;
  readonly minPort: number;
  readonly maxPort: number;

  readonly realm: string;
  readonly serverName: string;
  readonly ltCredMech: boolean;
  readonly noAuth: boolean;
  readonly users: readonly StaticUser[];
  /** coturn's SQLite user database (`userdb`), read on every lookup so changes apply at once. */
  readonly userDb: string | undefined;
  /** TURN REST API (`use-auth-secret`, or any `static-auth-secret`). */
  readonly useAuthSecret: boolean;
  readonly staticAuthSecrets: readonly string[];
  /** Between the expiry and the user in REST usernames (`rest-api-separator`, default ':'). */
  readonly restApiSeparator: string;
  /** Seconds a nonce stays valid (`stale-nonce`, default 600). */
  readonly staleNonce: number;

  readonly stunOnly: boolean;
  readonly noStun: boolean;
  readonly secureStun: boolean;
  readonly noUdp: boolean;
  readonly noTcp: boolean;
  readonly noTls: boolean;
  readonly noDtls: boolean;
  readonly noUdpRelay: boolean;
  readonly noTcpRelay: boolean;

  readonly allowLoopbackPeers: boolean;
  readonly noMulticastPeers: boolean;

  readonly maxAllocateLifetime: number;
  readonly defaultAllocateLifetime: number;
  readonly permissionLifetime: number;
  readonly channelLifetime: number;
  /** Accept only RFC 8656's channel numbers 0x4000-0x4FFF (default: RFC 5766's 0x4000-0x7FFF). */
  readonly strictChannelNumbers: boolean;

  readonly fingerprint: boolean;
  readonly noSoftwareAttribute: boolean;
  readonly software: string;

  readonly pidFile: string | undefined;
  readonly logFile: string | undefined;
  readonly noStdoutLog: boolean;
  readonly simpleLog: boolean;
  readonly syslog: boolean;
  readonly logLevel: LogLevel;
}
