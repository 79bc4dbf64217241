/**
 * Every option coturn 4.6 knows (its reference turnserver.conf and `turnserver --help`), plus
 * Turnpike's own, declared once. The parsers, the help text and docs/coturn-options.md are
 * all generated from this table.
 */

export type OptionType =
  | 'boolean' // bare = true; 1/yes/true/on/y/t or 0/no/false/off/n/f
  | 'string'
  | 'integer' // decimal, within min..max
  | 'port' // 1..65535 (or min..65535)
  | 'ip' // an IPv4 or IPv6 address
  | 'ip-range' // ip, ip-ip or ip/prefix
  | 'address' // host, host:port or [ipv6]:port
  | 'external-ip' // public or public/private
  | 'user' // name:password or name:0x<32 hex digits>
  | 'file' // a readable file, found like coturn finds it
  | 'choice';

export type OptionStatus =
  | { readonly kind: 'applied' }
  | { readonly kind: 'not-planned'; readonly why: string };

export interface OptionSpec {
  /** coturn's long name (for `-c`, `-n` the letter itself). */
  readonly name: string;
  /** Other long names coturn accepts for the same option. */
  readonly aliases: readonly string[];
  readonly short: string | undefined;
  readonly type: OptionType;
  /** Repeats add up (file and command line together) instead of the last one winning. */
  readonly list: boolean;
  /** The default, as shown in help and docs (undefined: none). */
  readonly default: string | number | boolean | undefined;
  /** For an integer that may be given bare (`stale-nonce`): the value a bare key means. */
  readonly bare: number | undefined;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly choices: readonly string[] | undefined;
  /** An empty value is allowed and means "none" (`pidfile=` as Debian's unit passes it). */
  readonly emptyOk: boolean;
  /** Only on the command line (`-c`, `-n`, `--help`, `--version`). */
  readonly cliOnly: boolean;
  /** What to print for the value in help, e.g. `<port>`. */
  readonly arg: string | undefined;
  readonly help: string;
  readonly status: OptionStatus;
}

const applied: OptionStatus = { kind: 'applied' };
const notPlanned = (why: string): OptionStatus => ({ kind: 'not-planned', why });

type Extra = Partial<Omit<OptionSpec, 'name' | 'type' | 'status' | 'help'>>;

function opt(name: string, type: OptionType, status: OptionStatus, help: string, extra: Extra = {}): OptionSpec {
  return Object.freeze({
    name,
    aliases: Object.freeze([...(extra.aliases ?? [])]),
    short: extra.short,
    type,
    list: extra.list ?? false,
    default: extra.default,
    bare: extra.bare,
    min: extra.min,
    max: extra.max,
    choices: extra.choices ? Object.freeze([...extra.choices]) : undefined,
    emptyOk: extra.emptyOk ?? false,
    cliOnly: extra.cliOnly ?? false,
    arg: extra.arg,
    help,
    status,
  });
}

// Reasons shared by several not-planned options.
const NO_DEVICE = 'binding to a device (SO_BINDTODEVICE) is not available in Node.js; use listening-ip/relay-ip';
const NO_DB = 'MongoDB user databases are not planned; use the SQLite userdb, PostgreSQL, MySQL or Redis';
const NO_DB_ONLY = 'only matters for secrets, IP lists or realms kept in a database, which Turnpike reads at start';
const NO_TELNET = "Turnpike has no telnet CLI; use 'turnpike admin'";
const NO_WEB = 'Turnpike serves the web admin on web-admin-port only';
const NO_SSL = 'Node.js never offers SSLv2/SSLv3, so this is always in effect';

// One line per option, so the table reads as a table.
// prettier-ignore
export const OPTION_TABLE: readonly OptionSpec[] = Object.freeze([
  // Command line only.
  opt('c', 'string', applied, 'Configuration file; default: turnserver.conf on the search path.', { cliOnly: true, arg: '<file>' }),
  opt('n', 'boolean', applied, 'Do not read any configuration file.', { cliOnly: true }),
  opt('help', 'boolean', applied, 'Print this help and exit.', { short: 'h', cliOnly: true }),
  opt('version', 'boolean', applied, 'Print the version and exit.', { cliOnly: true }),

  // Listeners.
  opt('listening-device', 'string', notPlanned(NO_DEVICE), 'Listener interface device.', { short: 'd', arg: '<device>' }),
  opt('listening-port', 'port', applied, 'Listener port for UDP and TCP.', { short: 'p', default: 3478 }),
  opt('tls-listening-port', 'port', applied, 'Listener port for TLS and DTLS.', { default: 5349 }),
  opt('alt-listening-port', 'port', applied, 'Alternative UDP/TCP port for RFC 5780 (0: port + 1).', { min: 0, default: 0 }),
  opt('alt-tls-listening-port', 'port', applied, 'Alternative TLS/DTLS port for RFC 5780 (0: port + 1).', { min: 0, default: 0 }),
  opt('tcp-proxy-port', 'port', applied, 'Port for TCP connections from a load balancer that opens each with a PROXY protocol header (v1 or v2), whose client address then counts; plain TCP only.'),
  opt('listening-ip', 'ip', applied, 'Listener address; repeat for several. Default: all local addresses.', { short: 'L', list: true }),
  opt('aux-server', 'address', applied, 'Another UDP and TCP listening endpoint ip:port (e.g. port 443 or 80 for restrictive firewalls); repeat for several.', { list: true, arg: '<ip:port>' }),
  opt('udp-self-balance', 'boolean', notPlanned('it balances over aux-server endpoints for Linux kernels older than 3.9'), 'Balance UDP traffic over the auxiliary endpoints.'),
  opt('relay-device', 'string', notPlanned(NO_DEVICE), 'Relay interface device.', { short: 'i', arg: '<device>' }),
  opt('relay-ip', 'ip', applied, 'Relay address; repeat for several. Default: the listening address.', { short: 'E', list: true }),
  opt('external-ip', 'external-ip', applied, 'Public address, or public/private mapping, when behind NAT; repeat for several.', { short: 'X', list: true }),
  opt('relay-threads', 'integer', applied, 'Relay worker threads; 0 or 1: relay on the main thread. At most 128; unset, one per CPU (at most 128), as in coturn.', { short: 'm', default: 'number of CPUs', min: 0, arg: '<number>' }),
  opt('min-port', 'port', applied, 'Lowest relay port.', { default: 49152 }),
  opt('max-port', 'port', applied, 'Highest relay port.', { default: 65535 }),

  // Logging and the process.
  opt('verbose', 'boolean', applied, 'Moderately verbose log.', { short: 'v' }),
  opt('Verbose', 'boolean', applied, 'Extra verbose (debug) log.', { short: 'V' }),
  opt('log-file', 'string', applied, "Log file; 'stdout' or '-' for stdout, 'syslog' for syslog.", { short: 'l', arg: '<file>' }),
  opt('no-stdout-log', 'boolean', applied, 'Log to the log file only, not to stdout.'),
  opt('syslog', 'boolean', applied, 'Log to syslog.'),
  opt('syslog-facility', 'string', applied, 'Syslog facility, e.g. LOG_LOCAL1.'),
  opt('simple-log', 'boolean', applied, 'Use the log file name as given: no PID or date in it, no rollover.'),
  opt('new-log-timestamp', 'boolean', applied, "Timestamps in coturn's ISO-8601 form (%FT%T%z, local time) in text logs."),
  opt('new-log-timestamp-format', 'string', applied, 'Log timestamp format (strftime codes); needs new-log-timestamp, as in coturn.', { arg: '<format>' }),
  opt('log-format', 'choice', applied, 'text, or json: one JSON object per line (time, level, message, fields) for log shippers (Turnpike only).', { choices: ['text', 'json'], default: 'text', arg: '<text|json>' }),
  opt('log-binding', 'boolean', applied, 'Log STUN Binding requests (off by default against log floods).'),
  opt('daemon', 'boolean', applied, 'Run in the background: the command returns once the server serves (or with its exit status if it cannot start).', { short: 'o' }),
  opt('pidfile', 'string', applied, 'File to write the process id to; empty: none.', { emptyOk: true, arg: '<file>' }),
  opt('proc-user', 'string', applied, 'User to switch to once listening (with its own groups).', { arg: '<user>' }),
  opt('proc-group', 'string', applied, "Group to switch to once listening (default: proc-user's primary group).", { arg: '<group>' }),

  // Credentials.
  opt('lt-cred-mech', 'boolean', applied, 'Use the long-term credential mechanism.', { short: 'a' }),
  opt('no-auth', 'boolean', applied, 'Allow anonymous access (no credentials at all).', { short: 'z' }),
  opt('user', 'user', applied, 'Static user, name:password or name:0x<key>; repeat for several.', { short: 'u', list: true }),
  opt('realm', 'string', applied, "Default realm for long-term credentials (none set: the host's name).", { short: 'r', arg: '<realm>' }),
  opt('server-name', 'string', applied, 'Server name, which oAuth tokens are made for (default: the realm, else the host name).', { arg: '<name>' }),
  opt('use-auth-secret', 'boolean', applied, 'TURN REST API: time-limited credentials from a shared secret.'),
  opt('static-auth-secret', 'string', applied, 'TURN REST API shared secret; repeat for several.', { list: true, arg: '<secret>' }),
  opt('rest-api-separator', 'string', applied, "Timestamp/username separator in REST API user names (default ':').", { short: 'C', arg: '<char>' }),
  opt('secret-ts-exp-time', 'integer', notPlanned('deprecated in coturn 4.6, where it has no effect either'), 'Deprecated.'),
  opt('userdb', 'string', applied, 'SQLite user database file.', { short: 'b', aliases: ['db'], arg: '<file>' }),
  opt('psql-userdb', 'string', applied, 'PostgreSQL user database connection string (coturn\'s schema), libpq\'s form ("host=localhost dbname=coturn user=turn password=turn connect_timeout=30") or a postgresql:// URI.', { short: 'e', aliases: ['sql-userdb'], arg: '<conn>' }),
  opt('mysql-userdb', 'string', applied, 'MySQL/MariaDB user database connection string (coturn\'s schema): "host=localhost dbname=coturn user=turn password=turn port=3306 connect_timeout=10 read_timeout=10", TLS with ca, capath, cert, key, cipher.', { short: 'M', arg: '<conn>' }),
  opt('mongo-userdb', 'string', notPlanned(NO_DB), 'MongoDB user database connection string.', { short: 'J', arg: '<conn>' }),
  opt('redis-userdb', 'string', applied, 'Redis user database connection string (coturn\'s key layout), e.g. "ip=127.0.0.1 dbname=0 password=... port=6379".', { short: 'N', arg: '<conn>' }),
  opt('redis-statsdb', 'string', applied, 'Redis statistics database connection string: allocation status keys and coturn\'s status and traffic publications (coturn\'s channels and messages).', { short: 'O', arg: '<conn>' }),
  opt('secret-key-file', 'string', notPlanned('encrypted MySQL passwords are not planned: give the password in mysql-userdb, in a file only root can read'), 'AES key file for encrypted MySQL passwords.', { arg: '<file>' }),
  opt('no-auth-pings', 'boolean', notPlanned(NO_DB_ONLY), 'No periodic health checks of database secrets.'),
  opt('no-dynamic-ip-list', 'boolean', notPlanned(NO_DB_ONLY), 'Do not read allowed/denied peer IPs from the database.'),
  opt('no-dynamic-realms', 'boolean', notPlanned(NO_DB_ONLY), 'Do not read realms and their options from the database.'),
  opt('oauth', 'boolean', applied, 'Allow oAuth (RFC 7635) authorization, with the oAuth keys of the user database.'),
  opt('check-origin-consistency', 'boolean', notPlanned('the ORIGIN attribute comes from an expired draft no client sends'), 'Require the same ORIGIN attribute across a session.'),
  opt('stale-nonce', 'integer', applied, 'Nonce lifetime in seconds (bare: 600; 0: unlimited).', { bare: 600, default: 600, arg: '[=<seconds>]' }),

  // Quotas and bandwidth.
  opt('user-quota', 'integer', applied, 'Concurrent allocations per user (0: unlimited).', { short: 'q', default: 0 }),
  opt('total-quota', 'integer', applied, 'Concurrent allocations in total (0: unlimited).', { short: 'Q', default: 0 }),
  opt('max-bps', 'integer', applied, 'Bytes per second per session (0: unlimited).', { short: 's', default: 0 }),
  opt('bps-capacity', 'integer', applied, 'Bytes per second for all sessions together (0: unlimited).', { short: 'B', default: 0 }),
  opt('max-allocate-timeout', 'integer', applied, 'Seconds allowed to complete an allocation.', { default: 60 }),

  // Transports.
  opt('no-udp', 'boolean', applied, 'No UDP client listeners.'),
  opt('no-tcp', 'boolean', applied, 'No TCP client listeners.'),
  opt('no-tls', 'boolean', applied, 'No TLS client listeners.'),
  opt('no-dtls', 'boolean', applied, 'No DTLS client listeners.'),
  opt('no-udp-relay', 'boolean', applied, 'No UDP relay endpoints.'),
  opt('no-tcp-relay', 'boolean', applied, 'No TCP relay endpoints (RFC 6062).'),

  // Lifetimes.
  opt('max-allocate-lifetime', 'integer', applied, 'Longest allocation lifetime in seconds.', { bare: 3600, default: 3600, min: 1, arg: '[=<seconds>]' }),
  opt('channel-lifetime', 'integer', applied, 'Channel binding lifetime in seconds.', { bare: 600, default: 600, min: 1, arg: '[=<seconds>]' }),
  opt('permission-lifetime', 'integer', applied, 'Permission lifetime in seconds.', { bare: 300, default: 300, min: 1, arg: '[=<seconds>]' }),

  // STUN behaviour.
  opt('stun-only', 'boolean', applied, 'STUN only: ignore all TURN requests.', { short: 'S' }),
  opt('no-stun', 'boolean', applied, 'TURN only: ignore STUN Binding requests.'),
  opt('secure-stun', 'boolean', applied, 'Require authentication of STUN Binding requests.'),
  opt('fingerprint', 'boolean', applied, 'Add FINGERPRINT to responses.', { short: 'f' }),
  opt('no-software-attribute', 'boolean', applied, 'Do not send the SOFTWARE attribute.', { aliases: ['prod'] }),
  opt('no-rfc5780', 'boolean', applied, 'Disable RFC 5780 NAT behaviour discovery.'),
  opt('no-stun-backward-compatibility', 'boolean', applied, 'No RFC 3489 Binding requests, no MAPPED-ADDRESS.'),
  opt('response-origin-only-with-rfc5780', 'boolean', applied, 'Send RESPONSE-ORIGIN only when RFC 5780 is on (always so in Turnpike: without it Binding answers stay minimal).'),

  // TLS and DTLS.
  opt('cert', 'file', applied, 'Certificate file, PEM.', { default: 'turn_server_cert.pem' }),
  opt('pkey', 'file', applied, 'Private key file, PEM.', { default: 'turn_server_pkey.pem' }),
  opt('pkey-pwd', 'string', applied, 'Password of an encrypted private key.', { arg: '<password>' }),
  opt('cipher-list', 'string', applied, 'OpenSSL cipher list.', { default: 'DEFAULT', arg: '<ciphers>' }),
  opt('CA-file', 'file', applied, 'CA file; when set, client certificates are verified. Changed by a restart, not a reload.'),
  opt('ec-curve-name', 'string', applied, 'Curve for ECDH ciphers.', { arg: '<curve>' }),
  opt('dh566', 'boolean', notPlanned('a 566-bit DH group is breakable; use ECDHE (the default) or dh-file'), 'Use the predefined 566-bit DH key.'),
  opt('dh1066', 'boolean', notPlanned('a 1066-bit DH group is weak; use ECDHE (the default) or dh-file'), 'Use the predefined 1066-bit DH key.'),
  opt('dh-file', 'file', applied, 'DH parameters file, PEM.'),
  opt('no-sslv2', 'boolean', notPlanned(NO_SSL), 'Do not allow SSLv2.'),
  opt('no-sslv3', 'boolean', notPlanned(NO_SSL), 'Do not allow SSLv3.'),
  opt('no-tlsv1', 'boolean', applied, 'Do not allow TLSv1.0 / DTLSv1.0.'),
  opt('no-tlsv1_1', 'boolean', applied, 'Do not allow TLSv1.1.'),
  opt('no-tlsv1_2', 'boolean', applied, 'Do not allow TLSv1.2 / DTLSv1.2.'),

  // Peers.
  opt('allow-loopback-peers', 'boolean', applied, 'Allow peers on loopback addresses (testing only); the server\'s own service ports stay refused.'),
  opt('no-multicast-peers', 'boolean', applied, 'Refuse peers on multicast addresses.'),
  opt('allowed-peer-ip', 'ip-range', applied, 'Peer address or range always allowed; repeat for several.', { list: true }),
  opt('denied-peer-ip', 'ip-range', applied, 'Peer address or range refused; repeat for several.', { list: true }),
  opt('server-relay', 'boolean', notPlanned('it turns off the permission check on relayed packets: non-standard and dangerous'), 'No permission check on relay endpoints.'),

  // Redirection and address families.
  opt('alternate-server', 'address', applied, 'Redirect UDP/TCP Allocate requests there (300), rotating, by the client\'s address family; repeat for several.', { list: true, arg: '<ip[:port]>' }),
  opt('tls-alternate-server', 'address', applied, 'Redirect TLS/DTLS Allocate requests there (300); repeat for several.', { list: true, arg: '<ip[:port]>' }),
  opt('mobility', 'boolean', applied, 'RFC 8016 mobility: a client that asks gets a MOBILITY-TICKET; a Refresh with it from a new address moves its allocation there (405 Mobility Forbidden when off).'),
  opt('keep-address-family', 'boolean', applied, 'Deprecated: same as allocation-default-address-family=keep.', { short: 'K' }),
  opt('allocation-default-address-family', 'choice', applied, 'Relay family when the client asks for none (keep: the family of the address the client reached).', { short: 'A', choices: ['ipv4', 'ipv6', 'keep'], default: 'ipv4' }),

  // Metrics and administration.
  opt('prometheus', 'boolean', applied, 'Serve Prometheus metrics over HTTP (see prometheus-port, -address, -path).'),
  opt('prometheus-port', 'port', applied, 'Prometheus metrics port.', { default: 9641 }),
  opt('prometheus-address', 'ip', applied, 'Prometheus metrics address (coturn after 4.6 has it too, and listens on every address by default).', { default: '127.0.0.1' }),
  opt('prometheus-path', 'string', applied, 'Prometheus metrics path (coturn after 4.6 has it too); / answers ok as a health check.', { default: '/metrics', arg: '<path>' }),
  opt('prometheus-username-labels', 'boolean', applied, 'Add a user label to the turn_traffic_* metrics (one series per user: mind REST API names).'),
  opt('no-cli', 'boolean', notPlanned(`${NO_TELNET}; this is always in effect`), 'Turn off the telnet CLI.'),
  opt('cli-ip', 'string', notPlanned(NO_TELNET), 'Telnet CLI address.', { arg: '<ip>' }),
  opt('cli-port', 'integer', notPlanned(NO_TELNET), 'Telnet CLI port.', { default: 5766 }),
  opt('cli-password', 'string', notPlanned(NO_TELNET), 'Telnet CLI password.', { arg: '<password>' }),
  opt('cli-max-output-sessions', 'integer', notPlanned(NO_TELNET), 'Sessions shown by the CLI ps command.', { default: 256 }),
  opt('web-admin', 'boolean', applied, 'Turn on the web admin page: HTTPS with cert and pkey (plain HTTP only on loopback); log in with admin-token or a turnadmin -A user.'),
  opt('web-admin-ip', 'ip', applied, 'Web admin address.', { default: '127.0.0.1' }),
  opt('web-admin-port', 'port', applied, 'Web admin port.', { default: 8080 }),
  opt('web-admin-listen-on-workers', 'boolean', notPlanned(NO_WEB), 'Web admin on the STUN/TURN ports.'),
  opt('acme-redirect', 'string', notPlanned('Turnpike does not answer HTTP on its STUN/TURN ports'), 'Redirect ACME HTTP challenges to this URL.', { arg: '<url>' }),
  opt('ne', 'string', notPlanned("it picks one of coturn's internal network engines"), 'Network engine type (1, 2 or 3).', { arg: '<1|2|3>' }),

  // Turnpike's own.
  opt('strict-channel-numbers', 'boolean', applied, 'Accept only RFC 8656 channel numbers 0x4000-0x4FFF (Turnpike only).'),
  opt('drain-timeout', 'integer', applied, 'Seconds a drain (SIGUSR1, turnpike admin drain) waits for the last allocation before the process exits anyway (Turnpike only).', { default: 3600, min: 1 }),
  opt('no-reply-budget', 'boolean', applied, 'Answer unauthenticated UDP requests without the anti-reflection byte budget: every challenge is sent, and a spoofed source can be sent more than it sent (Turnpike only; see SECURITY.md).'),
  opt('software-attribute', 'boolean', applied, 'Send SOFTWARE (the server name and version) in responses; off by default, as it tells scanners what runs and makes every answer bigger (Turnpike only).'),
  opt('self-test-page', 'boolean', applied, 'Serve a page that tests this server from a browser over UDP, TCP and TLS (Turnpike only).'),
  opt('self-test-address', 'ip', applied, 'Address of the self-test page (Turnpike only).', { default: '127.0.0.1' }),
  opt('self-test-port', 'port', applied, 'Port of the self-test page (Turnpike only).', { default: 8089 }),
  opt('self-test-turn-host', 'string', applied, 'Host name browsers use for turn: and turns: URLs on the page; must match the certificate (Turnpike only).', { arg: '<host>' }),
  opt('admin-socket', 'string', applied, "Unix socket of the admin interface ('turnpike admin'), an absolute path; created mode 0600: who can open it is admin (Turnpike only).", { arg: '<path>' }),
  opt('admin-port', 'port', applied, 'Serve the admin interface over HTTP on this port; needs admin-token or admin-token-file (Turnpike only).'),
  opt('admin-ip', 'ip', applied, 'Address of the HTTP admin interface; anything but loopback is warned about (Turnpike only).', { default: '127.0.0.1' }),
  opt('admin-token', 'string', applied, 'Bearer token of the HTTP admin interface, 16 characters or more (Turnpike only).', { arg: '<token>' }),
  opt('admin-token-file', 'file', applied, 'File holding the admin token, read at start (Turnpike only).'),
]);

const byName = new Map<string, OptionSpec>();
const byShort = new Map<string, OptionSpec>();
for (const spec of OPTION_TABLE) {
  for (const name of [spec.name, ...spec.aliases]) byName.set(name, spec);
  if (spec.short !== undefined) byShort.set(spec.short, spec);
  if (spec.name.length === 1) byShort.set(spec.name, spec);
}

/** The option a long name or alias (as in a config file or after `--`) stands for. */
export function findOption(name: string): OptionSpec | undefined {
  return byName.get(name);
}

/** The option a short flag letter stands for. */
export function findShortOption(letter: string): OptionSpec | undefined {
  return byShort.get(letter);
}

/** How an option is written on the command line, e.g. `--listening-port` or `-c`. */
export function flagOf(spec: OptionSpec): string {
  return spec.name.length === 1 ? `-${spec.name}` : `--${spec.name}`;
}
