/**
 * Typed settings to ServerOptions: defaults, coturn's rules between options (users turn on
 * lt-cred-mech, ...) and the checks that span options.
 */
import { adminOptions } from './admin-options.js';
import { webAdminOptions } from './web-admin-options.js';
import { resolveAuth } from './auth-options.js';
import { auxServers, redirectOptions } from './redirect-options.js';
import { redisStatsDbOption } from './statsdb-options.js';
import { ConfigError, describeOrigin, located, type Origin } from './errors.js';
import { frozenMap } from './freeze.js';
import { COTURN_TIMESTAMP_FORMAT } from '../log/strftime.js';
import { USER_FACILITY, syslogFacility } from '../log/syslog-priority.js';
import type { LogLevel, MetricsOptions, ServerOptions } from './server-options.js';
import type { Settings } from './settings.js';
import type { ExternalIp } from './values.js';

export interface Environment {
  readonly hostname: string;
  readonly version: string;
  /** CPUs this process may run on (`os.availableParallelism()`): relay-threads' default. */
  readonly cpus: number;
}

export interface Built {
  readonly options: ServerOptions;
  readonly warnings: string[];
  readonly errors: ConfigError[];
}

/** RFC 8656 §7: an allocation without LIFETIME gets 600 s, capped by the maximum. */
const DEFAULT_ALLOCATE_LIFETIME = 600;

export function buildServerOptions(s: Settings, env: Environment): Built {
  const warnings: string[] = [];
  const errors: ConfigError[] = [];
  const at = (name: string): Origin => s.last(name)?.origin ?? {};

  const minPort = s.number('min-port', 49152);
  const maxPort = s.number('max-port', 65535);
  if (minPort > maxPort) {
    const name = s.has('min-port') ? 'min-port' : 'max-port';
    errors.push(new ConfigError(at(name), name, `min-port ${minPort} is above max-port ${maxPort}`));
  }
  if (s.number('bps-capacity', 0) > 0 && s.number('max-bps', 0) === 0) {
    errors.push(
      new ConfigError(at('bps-capacity'), 'bps-capacity', 'needs max-bps too (coturn refuses to start without it)'),
    );
  }

  const auth = resolveAuth(s, env.hostname, warnings, errors);
  const maxAllocateLifetime = s.number('max-allocate-lifetime', 3600);
  const noSoftwareAttribute = s.flag('no-software-attribute');
  const pidFile = s.string('pidfile');

  const built: ServerOptions = {
    listeningIps: s.all('listening-ip').map((x) => x.value as string),
    listeningPort: s.number('listening-port', 3478),
    tlsListeningPort: s.number('tls-listening-port', 5349),
    altListeningPort: s.number('alt-listening-port', 0),
    altTlsListeningPort: s.number('alt-tls-listening-port', 0),
    noRfc5780: s.flag('no-rfc5780'),
    relayIps: s.all('relay-ip').map((x) => x.value as string),
    externalIps: externalIps(s, errors),
    minPort,
    maxPort,
    serverName: s.string('server-name') ?? (auth.realm !== '' ? auth.realm : env.hostname),
    oauth: s.flag('oauth'),
    ...auth,
    staleNonce: s.number('stale-nonce', 600),
    stunOnly: s.flag('stun-only'),
    noStun: s.flag('no-stun'),
    secureStun: s.flag('secure-stun'),
    mobility: s.flag('mobility'),
    noUdp: s.flag('no-udp'),
    noTcp: s.flag('no-tcp'),
    noTls: s.flag('no-tls'),
    noDtls: s.flag('no-dtls'),
    noUdpRelay: s.flag('no-udp-relay'),
    tls: {
      cert: s.string('cert'),
      pkey: s.string('pkey'),
      pkeyPassword: s.string('pkey-pwd'),
      cipherList: s.string('cipher-list'),
      caFile: s.string('CA-file'),
      ecCurveName: s.string('ec-curve-name'),
      dhFile: s.string('dh-file'),
      noTlsv1: s.flag('no-tlsv1'),
      noTlsv1_1: s.flag('no-tlsv1_1'),
      noTlsv1_2: s.flag('no-tlsv1_2'),
    },
    maxAllocateTimeout: s.number('max-allocate-timeout', 60),
    noTcpRelay: s.flag('no-tcp-relay'),
    userQuota: s.number('user-quota', 0),
    totalQuota: s.number('total-quota', 0),
    maxBps: s.number('max-bps', 0),
    bpsCapacity: s.number('bps-capacity', 0),
    allowedPeerIps: s.all('allowed-peer-ip').map((x) => x.value as string),
    deniedPeerIps: s.all('denied-peer-ip').map((x) => x.value as string),
    allowLoopbackPeers: s.flag('allow-loopback-peers'),
    noMulticastPeers: s.flag('no-multicast-peers'),
    maxAllocateLifetime,
    defaultAllocateLifetime: Math.min(DEFAULT_ALLOCATE_LIFETIME, maxAllocateLifetime),
    permissionLifetime: s.number('permission-lifetime', 300),
    channelLifetime: s.number('channel-lifetime', 600),
    strictChannelNumbers: s.flag('strict-channel-numbers'),
    fingerprint: s.flag('fingerprint'),
    // coturn: -K is the old spelling of keep, and wins.
    defaultAddressFamily: s.flag('keep-address-family') ? 'keep' : ((s.string('allocation-default-address-family') ?? 'ipv4') as 'ipv4' | 'ipv6' | 'keep'),
    stunBackwardCompatibility: !s.flag('no-stun-backward-compatibility'),
    logBinding: s.flag('log-binding'),
    // coturn sends SOFTWARE unless told not to; Turnpike only when asked (`software-attribute`).
    softwareAttribute: s.flag('software-attribute') && !noSoftwareAttribute,
    noReplyBudget: s.flag('no-reply-budget'),
    software: `Turnpike ${env.version}`,
    pidFile: pidFile === '' ? undefined : pidFile,
    daemon: s.flag('daemon'),
    procUser: s.string('proc-user'),
    procGroup: s.string('proc-group'),
    logFile: s.string('log-file'),
    noStdoutLog: s.flag('no-stdout-log'),
    simpleLog: s.flag('simple-log'),
    syslog: s.flag('syslog'),
    syslogFacility: facilityOf(s, errors),
    tcpProxyPort: s.has('tcp-proxy-port') ? s.number('tcp-proxy-port', 0) : undefined,
    auxServers: auxServers(s, errors),
    logLevel: logLevel(s),
    ...logOutput(s, warnings),
    metrics: metricsOptions(s, errors),
    admin: adminOptions(s, warnings, errors),
    redirect: redirectOptions(s, errors),
    redisStatsDb: redisStatsDbOption(s, warnings, errors),
    selfTest: s.flag('self-test-page')
      ? { address: s.string('self-test-address') ?? '127.0.0.1', port: s.number('self-test-port', 8089), turnHost: s.string('self-test-turn-host') }
      : undefined,
    relayThreads: relayThreads(s, defaultRelayThreads(env.cpus, maxPort - minPort + 1, warnings), warnings),
  };
  const webAdmin = webAdminOptions(s, built.tls, built.userDb, warnings, errors);
  const options: ServerOptions = webAdmin === undefined ? built : { ...built, webAdmin };
  warnAboutCombinations(s, options, warnings);
  return { options, warnings, errors };
}

/** coturn's largest relay-threads; it takes a larger value as this one, with a warning. */
const COTURN_MAX_RELAY_THREADS = 128;

/**
 * Unset relay-threads: one per CPU, at most 128, as coturn. Each worker owns its own relay port
 * pairs, so a range narrower than two ports a CPU gets fewer workers, not a refusal to start.
 */
function defaultRelayThreads(cpus: number, relayPorts: number, warnings: string[]): number {
  const perCpu = Math.min(Math.max(cpus, 1), COTURN_MAX_RELAY_THREADS);
  const fitting = Math.max(Math.floor(relayPorts / 2), 1);
  if (fitting >= perCpu) return perCpu;
  warnings.push(`min-port..max-port has ${relayPorts} relay ports, 2 for each relay worker: starting ${fitting} relay worker${fitting === 1 ? '' : 's'}, not one per CPU (${perCpu}); set relay-threads to say how many`);
  return fitting;
}

/**
 * `relay-threads`: unset, the default above. 0 is coturn's single-threaded mode (relaying on
 * its listener thread), which is what 1 is here.
 */
function relayThreads(s: Settings, unset: number, warnings: string[]): number {
  if (!s.has('relay-threads')) return unset;
  const asked = s.number('relay-threads', 1);
  if (asked > COTURN_MAX_RELAY_THREADS) {
    warnings.push(located(s.last('relay-threads')?.origin ?? {}, `relay-threads ${asked} is above ${COTURN_MAX_RELAY_THREADS}; using ${COTURN_MAX_RELAY_THREADS}, as coturn does`));
    return COTURN_MAX_RELAY_THREADS;
  }
  return Math.max(asked, 1);
}

/** `log-format`, and coturn's rule that the timestamp format needs new-log-timestamp. */
function logOutput(s: Settings, warnings: string[]): Pick<ServerOptions, 'logFormat' | 'logTimestampFormat'> {
  const format = s.string('new-log-timestamp-format');
  if (format !== undefined && !s.flag('new-log-timestamp')) {
    warnings.push(located(s.last('new-log-timestamp-format')?.origin ?? {}, 'new-log-timestamp-format has no effect without new-log-timestamp (as in coturn)'));
  }
  return {
    logFormat: s.string('log-format') === 'json' ? 'json' : 'text',
    logTimestampFormat: s.flag('new-log-timestamp') ? (format ?? COTURN_TIMESTAMP_FORMAT) : undefined,
  };
}

function metricsOptions(s: Settings, errors: ConfigError[]): MetricsOptions | undefined {
  if (!s.flag('prometheus')) return undefined;
  const path = s.string('prometheus-path') ?? '/metrics';
  if (!path.startsWith('/') || /[\s?#]/.test(path)) {
    errors.push(new ConfigError(s.last('prometheus-path')?.origin ?? {}, 'prometheus-path', `"${path}" is not a URL path (it starts with /, without spaces, ? or #)`));
  }
  return {
    address: s.string('prometheus-address') ?? '127.0.0.1',
    port: s.number('prometheus-port', 9641),
    path,
    usernameLabels: s.flag('prometheus-username-labels'),
  };
}

function facilityOf(s: Settings, errors: ConfigError[]): number {
  const name = s.string('syslog-facility');
  if (name === undefined || name === '') return USER_FACILITY;
  const code = syslogFacility(name);
  if (code === undefined) {
    errors.push(new ConfigError(s.last('syslog-facility')?.origin ?? {}, 'syslog-facility', `"${name}" is not a syslog facility (LOG_USER, LOG_DAEMON, LOG_LOCAL0 … LOG_LOCAL7, …)`));
    return USER_FACILITY;
  }
  return code;
}

/** coturn's -V wins over -v whatever their order (a later -v cannot lower it). */
function logLevel(s: Settings): LogLevel {
  if (s.flag('Verbose')) return 'debug';
  return s.flag('verbose') ? 'verbose' : 'info';
}

function externalIps(s: Settings, errors: ConfigError[]): ReadonlyMap<string, string> {
  const seen = new Map<string, Origin>();
  const entries: [string, string][] = [];
  for (const { value, origin } of s.all('external-ip')) {
    const { publicIp, privateIp } = value as ExternalIp;
    const earlier = seen.get(privateIp);
    if (earlier) {
      // coturn logs "You cannot define external IP more than once" and keeps the first.
      const what = privateIp === '' ? 'a single external IP was' : `private address ${privateIp} was`;
      errors.push(new ConfigError(origin, 'external-ip', `${what} already mapped at ${describeOrigin(earlier)}`));
      continue;
    }
    seen.set(privateIp, origin);
    entries.push([privateIp, publicIp]);
  }
  return frozenMap(entries);
}

function warnAboutCombinations(s: Settings, o: ServerOptions, warnings: string[]): void {
  const warn = (name: string, text: string) => warnings.push(located(s.last(name)?.origin ?? {}, text));
  if (!o.ltCredMech && !o.noAuth && !o.stunOnly) {
    warnings.push(
      'neither lt-cred-mech (with user, use-auth-secret or a userdb) nor no-auth is set: Turnpike serves STUN only; coturn would relay for anyone',
    );
  }
  if (o.oauth && o.userDb === undefined && o.redisUserDb === undefined)
    warn('oauth', 'oauth without userdb or redis-userdb: there are no oAuth keys, so no access token can succeed');
  if (o.noUdpRelay && o.noTcpRelay) {
    warn(
      'no-tcp-relay',
      'no-udp-relay and no-tcp-relay together: coturn refuses to start; Turnpike refuses every allocation',
    );
  }
  if (o.stunOnly && o.noStun) warn('no-stun', 'stun-only and no-stun together: the server answers nothing');
  if (o.noUdp && o.noTcp && o.noTls && o.noDtls)
    warn('no-dtls', 'no-udp, no-tcp, no-tls and no-dtls together: no client listener is left');
  if (o.mobility && (o.relayThreads ?? 1) > 1)
    warn('mobility', 'mobility with relay-threads > 1: a UDP client that moves is handed to its allocation\'s thread, but a TCP, TLS or DTLS client whose new connection lands on another thread is refused (437)');
  if (o.allowLoopbackPeers)
    warn('allow-loopback-peers', 'allow-loopback-peers opens a possible security hole; do not use it in production');
}
