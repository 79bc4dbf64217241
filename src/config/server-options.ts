/**
 * The typed, validated options the server runs with. Everything outside src/config reads
 * this and nothing else: how a value got here (file, flag, default) is config's business.
 */
import type { TransportAddress } from '../stun/ip.js';
import type { MysqlConnection } from './mysql-connection.js';
import type { PgConnection } from './pg-connection.js';
import type { RedisConnection } from './redis-connection.js';

export interface StaticUser {
  readonly name: string;
  /** The long-term key MD5(name:realm:password): from a password, or given as `0x…`. */
  readonly key: Buffer;
  /** SHA-256(name:realm:password), for RFC 8489 clients that choose it: only when the password is given. */
  readonly sha256Key?: Buffer;
}

/** Certificates and protocol settings for TLS (and DTLS) listeners. */
export interface TlsOptions {
  /** PEM files; TLS is served only when both are given. */
  readonly cert: string | undefined;
  readonly pkey: string | undefined;
  readonly pkeyPassword: string | undefined;
  readonly cipherList: string | undefined;
  /** Client certificates are required and verified against this CA when set. */
  readonly caFile: string | undefined;
  readonly ecCurveName: string | undefined;
  readonly dhFile: string | undefined;
  readonly noTlsv1: boolean;
  readonly noTlsv1_1: boolean;
  readonly noTlsv1_2: boolean;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'verbose' | 'debug';

/** Where new allocations go instead (`alternate-server`), and how long a drain may last. */
export interface RedirectOptions {
  /** 300 Try Alternate to every Allocate over UDP/TCP (TLS/DTLS), rotating, as coturn does. */
  readonly alternateServers: readonly TransportAddress[];
  readonly tlsAlternateServers: readonly TransportAddress[];
  /** A drain exits after this long even if allocations remain (`drain-timeout`). */
  readonly drainTimeoutSeconds: number;
}

/** The admin interface used by `turnpike admin` (`admin-socket`, `admin-port`, …). */
export interface AdminOptions {
  /** A Unix socket, created mode 0600: who can open it is admin. */
  readonly socket: string | undefined;
  /** HTTP with a bearer token; loopback by default. */
  readonly http: { readonly address: string; readonly port: number; readonly token: string } | undefined;
}

/** The web admin page (`web-admin`, `web-admin-ip`, `web-admin-port`). */
export interface WebAdminOptions {
  readonly address: string;
  readonly port: number;
  /** HTTPS with the server's cert and pkey; false only on a loopback address. */
  readonly https: boolean;
  /** admin-token or admin-token-file, when set: one way to log in (the other: admin_user rows). */
  readonly token: string | undefined;
}

/** The Prometheus endpoint (`prometheus`, `prometheus-*`). */
export interface MetricsOptions {
  /** Loopback by default: metrics name realms (and users, with usernameLabels). */
  readonly address: string;
  /** 0 lets the OS choose (library use); the CLI takes 1-65535. */
  readonly port: number;
  readonly path: string;
  /** A `user` label on the turn_traffic_* series, as coturn's `prometheus-username-labels`. */
  readonly usernameLabels: boolean;
}

export interface ServerOptions {
  /** Addresses to listen on. Empty: one socket per local address of each family. */
  readonly listeningIps: readonly string[];
  readonly listeningPort: number;
  readonly tlsListeningPort: number;
  /** RFC 5780's second ports (`alt-listening-port`, `alt-tls-listening-port`); 0: the port + 1. */
  readonly altListeningPort: number;
  readonly altTlsListeningPort: number;
  /** `no-rfc5780`: no NAT behaviour discovery, even with two listening IPs. */
  readonly noRfc5780: boolean;
  /** Relay addresses. Empty: the listening address of the same family. */
  readonly relayIps: readonly string[];
  /** `external-ip`: public address per relay (private) address; '' key = any. */
  readonly externalIps: ReadonlyMap<string, string>;
  readonly minPort: number;
  readonly maxPort: number;

  readonly realm: string;
  readonly serverName: string;
  /** `oauth`: RFC 7635 access tokens, checked with the user database's `oauth_key` rows and `serverName`. */
  readonly oauth: boolean;
  readonly ltCredMech: boolean;
  readonly noAuth: boolean;
  readonly users: readonly StaticUser[];
  /** coturn's SQLite user database (`userdb`), read on every lookup so changes apply at once. */
  readonly userDb: string | undefined;
  /** coturn's Redis user database (`redis-userdb`), shared by a fleet; read per request, with a timeout. */
  readonly redisUserDb?: RedisConnection;
  /** coturn's Redis statistics database (`redis-statsdb`): allocation statuses and traffic, published. */
  readonly redisStatsDb?: RedisConnection;
  /** coturn's PostgreSQL user database (`psql-userdb`), shared by a fleet; one query per lookup, with a timeout. */
  readonly psqlUserDb?: PgConnection;
  /** coturn's MySQL/MariaDB user database (`mysql-userdb`), as psqlUserDb on the same schema. */
  readonly mysqlUserDb?: MysqlConnection;
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
  /** RFC 8016 MOBILITY-TICKET: allocations may move to a new client 5-tuple. */
  readonly mobility: boolean;
  readonly noUdp: boolean;
  readonly noTcp: boolean;
  readonly noTls: boolean;
  readonly noDtls: boolean;
  readonly noUdpRelay: boolean;
  readonly tls: TlsOptions;
  /** Seconds a new TCP/TLS connection has to complete its allocation (`max-allocate-timeout`). */
  readonly maxAllocateTimeout: number;
  /** `aux-server`: more UDP and TCP endpoints, beyond listening-ip × listening-port. */
  readonly auxServers: readonly TransportAddress[];
  /** `tcp-proxy-port`: TCP from a load balancer, PROXY header first; absent: none. */
  readonly tcpProxyPort?: number;
  readonly noTcpRelay: boolean;

  /** Allocations per user and in all (`user-quota`, `total-quota`); 0: unlimited. */
  readonly userQuota: number;
  readonly totalQuota: number;
  /** Bytes per second per allocation and direction (`max-bps`), and in all (`bps-capacity`); 0: unlimited. */
  readonly maxBps: number;
  readonly bpsCapacity: number;

  /** `allowed-peer-ip` and `denied-peer-ip` ranges (ip, ip-ip, ip/prefix). */
  readonly allowedPeerIps: readonly string[];
  readonly deniedPeerIps: readonly string[];
  readonly allowLoopbackPeers: boolean;
  readonly noMulticastPeers: boolean;

  readonly maxAllocateLifetime: number;
  readonly defaultAllocateLifetime: number;
  readonly permissionLifetime: number;
  readonly channelLifetime: number;
  /** Accept only RFC 8656's channel numbers 0x4000-0x4FFF (default: RFC 5766's 0x4000-0x7FFF). */
  readonly strictChannelNumbers: boolean;

  readonly fingerprint: boolean;
  /** Relay family when an Allocate names none: `allocation-default-address-family` (`keep-address-family`). */
  readonly defaultAddressFamily: 'ipv4' | 'ipv6' | 'keep';
  /** Answer RFC 3489 Binding requests (no magic cookie); off with `no-stun-backward-compatibility`. */
  readonly stunBackwardCompatibility: boolean;
  /** Log each Binding request (`log-binding`): off by default against log floods. */
  readonly logBinding: boolean;
  /** Send SOFTWARE in responses (`software-attribute`, and not `no-software-attribute`). */
  readonly softwareAttribute: boolean;
  /** Answer unauthenticated UDP requests without the anti-reflection byte budget (`no-reply-budget`). */
  readonly noReplyBudget: boolean;
  /** This server's name and version, for SOFTWARE and the start-up line. */
  readonly software: string;

  readonly pidFile: string | undefined;
  /** `daemon` (-o): detach, and return once serving. */
  readonly daemon: boolean;
  /** `proc-user` / `proc-group`: who the process becomes once listening; absent: no switch. */
  readonly procUser?: string;
  readonly procGroup?: string;
  readonly logFile: string | undefined;
  readonly noStdoutLog: boolean;
  readonly simpleLog: boolean;
  readonly syslog: boolean;
  /** `syslog-facility` as its code (LOG_LOCAL1: 17); default user (1). */
  readonly syslogFacility: number;
  readonly logLevel: LogLevel;
  // Optional, so that library callers who build ServerOptions by hand need not change.
  /** `log-format`; absent: text. */
  readonly logFormat?: 'text' | 'json';
  /** strftime format of text log timestamps (`new-log-timestamp[-format]`); absent: ISO-8601 UTC. */
  readonly logTimestampFormat?: string;
  /** The self-test page (`self-test-page`); absent: off. */
  readonly selfTest?: { readonly address: string; readonly port: number; readonly turnHost: string | undefined };
  /** Absent: no metrics endpoint. */
  readonly metrics?: MetricsOptions;
  readonly redirect: RedirectOptions;
  /** Absent: no admin interface. */
  readonly admin?: AdminOptions;
  /** Absent: no web admin page (`web-admin`). */
  readonly webAdmin?: WebAdminOptions;
  /**
   * Relay worker threads (coturn's `relay-threads`); absent or 1: the whole server on the
   * calling thread. The configuration's default (unset relay-threads) is one per CPU; an
   * embedder that builds options itself gets no thread unless it asks. See docs/relay-workers.md.
   */
  readonly relayThreads?: number;
}
