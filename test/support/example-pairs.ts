// Which of coturn's example client scripts go with which server script (as its readme.txt and
// the scripts' names and users say), which are left out and why, and how a pair is judged.
import { boundDataConnections, runCoturnTurnadmin } from './coturn-tools.js';
import { startExampleDatabase, type ExampleDatabaseKind } from './example-databases.js';
import {
  clientFlags, freeReplacementsFor, runExampleClient, startExamplePeer, startExampleServer,
  type ExampleClientResult, type ExampleServer, type ExamplesDir,
} from './example-scripts.js';

export interface ServerSetup {
  /** The server scripts: the clients talk to the first; the others (load-balance slaves) start before it. */
  readonly servers: readonly string[];
  readonly clients: readonly string[];
  /** Ports the scripts fix (slaves' -p, alternate or auxiliary servers), made free ones for the run. */
  readonly fixedPorts?: readonly number[];
  /** The user database the scripts name, which turnadmin fills: SQLite's var/db/turndb, or a server started for the run (example-databases.ts). */
  readonly database?: ExampleDatabaseKind;
  /** coturn's turnadmin runs with each of these (and the database) before the servers start. */
  readonly turnadmin?: readonly (readonly string[])[];
  /** Needs a feature that Turnpike may not have yet (see option-table's status). */
  readonly needs?: 'mobility';
}

const LONGTERM_CLIENTS = [
  'longtermsecure/secure_udp_client.sh', 'longtermsecure/secure_tcp_client.sh', 'longtermsecure/secure_tls_client.sh',
  'longtermsecure/secure_dtls_client.sh', 'longtermsecure/secure_udp_c2c.sh',
  'longtermsecure/secure_tcp_client_c2c_tcp_relay.sh', 'longtermsecure/secure_tls_client_c2c_tcp_relay.sh',
];

const LONGTERM_USERS = [
  ['-a', '-u', 'ninefingers', '-r', 'north.gov', '-p', 'youhavetoberealistic'],
  ['-a', '-u', 'gorst', '-r', 'north.gov', '-p', 'hero'],
];
const REST_SECRET = [['-s', 'logen', '-r', 'north.gov']];

export const SERVER_SETUPS: readonly ServerSetup[] = [
  { servers: ['basic/relay.sh'], clients: ['basic/udp_client.sh', 'basic/tcp_client.sh', 'basic/udp_c2c_client.sh', 'basic/tcp_client_c2c_tcp_relay.sh'] },
  { servers: ['longtermsecure/secure_relay.sh'], clients: LONGTERM_CLIENTS },
  { servers: ['longtermsecure/secure_relay_cert.sh'], clients: ['longtermsecure/secure_dtls_client_cert.sh', 'longtermsecure/secure_tls_client_cert.sh'] },
  {
    servers: ['loadbalance/master_relay.sh', 'loadbalance/slave_relay_1.sh', 'loadbalance/slave_relay_2.sh'],
    clients: ['loadbalance/udp_c2c.sh', 'loadbalance/tcp_c2c_tcp_relay.sh'],
    fixedPorts: [3333, 4444],
  },
  // Its own client is a DoS loop (below); the UDP clients of longtermsecure use its users.
  { servers: ['selfloadbalance/secure_relay.sh'], clients: ['longtermsecure/secure_udp_client.sh', 'longtermsecure/secure_udp_c2c.sh'], fixedPorts: [12345, 12346] },
  { servers: ['restapi/secure_relay_secret.sh'], clients: ['restapi/secure_udp_client_with_secret.sh'] },
  // The database scripts name no users: the longtermsecure clients' users (and REST secret) go in first.
  { servers: ['longtermsecuredb/secure_relay_with_db_sqlite.sh'], clients: LONGTERM_CLIENTS, database: 'sqlite', turnadmin: LONGTERM_USERS },
  { servers: ['longtermsecuredb/secure_relay_with_db_redis.sh'], clients: LONGTERM_CLIENTS, database: 'redis', turnadmin: LONGTERM_USERS },
  { servers: ['restapi/secure_relay_secret_with_db_sqlite.sh'], clients: ['restapi/secure_udp_client_with_secret.sh'], database: 'sqlite', turnadmin: REST_SECRET },
  { servers: ['restapi/secure_relay_secret_with_db_redis.sh'], clients: ['restapi/secure_udp_client_with_secret.sh'], database: 'redis', turnadmin: REST_SECRET },
  { servers: ['longtermsecuredb/secure_relay_with_db_psql.sh'], clients: LONGTERM_CLIENTS, database: 'psql', turnadmin: LONGTERM_USERS },
  { servers: ['longtermsecuredb/secure_relay_with_db_mysql.sh'], clients: LONGTERM_CLIENTS, database: 'mysql', turnadmin: LONGTERM_USERS },
  { servers: ['longtermsecuredb/secure_relay_with_db_mysql_ssl.sh'], clients: LONGTERM_CLIENTS, database: 'mysql', turnadmin: LONGTERM_USERS },
  { servers: ['restapi/secure_relay_secret_with_db_psql.sh'], clients: ['restapi/secure_udp_client_with_secret.sh'], database: 'psql', turnadmin: REST_SECRET },
  { servers: ['restapi/secure_relay_secret_with_db_mysql.sh'], clients: ['restapi/secure_udp_client_with_secret.sh'], database: 'mysql', turnadmin: REST_SECRET },
  {
    servers: ['mobile/mobile_relay.sh'],
    clients: ['mobile/mobile_udp_client.sh', 'mobile/mobile_tcp_client.sh', 'mobile/mobile_dtls_client.sh', 'mobile/mobile_tls_client_c2c_tcp_relay.sh'],
    needs: 'mobility',
  },
];

/** Scripts left out, by name, with the reason. */
export const SKIPPED_SCRIPTS: ReadonlyMap<string, string> = new Map([
  ['basic/dos_attack.sh', 'an endless loop of killed clients that stops them with killall/pkill by name; no pass or fail'],
  ['longtermsecure/secure_dos_attack.sh', 'an endless loop of killed clients that stops them with killall/pkill by name; no pass or fail'],
  ['selfloadbalance/secure_dos_attack.sh', 'an endless loop of killed clients that stops them with killall/pkill by name, and deletes /var/log/turnserver/*'],
  ['longtermsecure/secure_sctp_client.sh', 'SCTP (-b): this kernel has no SCTP sockets ("Protocol not supported"), and Turnpike has no SCTP listener'],
  ['longtermsecuredb/secure_relay_with_db_mongo.sh', 'needs a MongoDB server: mongo-userdb is not planned in Turnpike (and Debian\'s coturn lacks MongoDB)'],
  ['restapi/secure_relay_secret_with_db_mongo.sh', 'needs a MongoDB server: mongo-userdb is not planned in Turnpike (and Debian\'s coturn lacks MongoDB)'],
]);

/** A pair's name: `server.sh + client.sh`. */
export const pairName = (setup: ServerSetup, client: string): string => `${setup.servers[0]} + ${client}`;

export interface PairOutcome {
  readonly pair: string;
  readonly passed: boolean;
  /** Sent/received/lost (and data connections for -T), or why it failed. */
  readonly detail: string;
  readonly result: ExampleClientResult;
}

/**
 * A pair passes when uclient exits 0 having sent messages and got every one back, none lost,
 * and (RFC 6062, -T) bound a data connection from each client to each other one.
 */
export function judge(pair: string, r: ExampleClientResult): PairOutcome {
  const { tcpRelayC2c, clients } = clientFlags(r.script);
  const connections = tcpRelayC2c ? boundDataConnections(r) : undefined;
  const wanted = clients * (clients - 1);
  const counts = `sent ${r.sent ?? '-'}, received ${r.received ?? '-'}, lost ${r.lostPackets ?? '-'}${tcpRelayC2c ? `, data connections ${connections ?? 0}/${wanted}` : ''}`;
  const problems = [
    r.timedOut ? 'timed out' : '',
    r.exitCode !== 0 ? `exit ${r.exitCode}` : '',
    !r.sent ? 'nothing sent' : '',
    r.received !== r.sent ? 'not every message back' : '',
    r.lostPackets !== 0 ? 'lost packets' : '',
    tcpRelayC2c && connections !== wanted ? 'data connections missing' : '',
  ].filter(Boolean);
  return { pair, passed: problems.length === 0, detail: problems.length ? `${counts} (${problems.join(', ')})` : counts, result: r };
}

/** uclient waits some 40 s for data connections that never bind; a failure still reports its counts. */
export const CLIENT_TIMEOUT_MS = 150_000;

export interface RunningSetup {
  /** The server the clients talk to. */
  readonly main: ExampleServer;
  /** Every server script's process, the main one last. */
  readonly servers: readonly ExampleServer[];
  /** Runs one client script against the main server and the peer, and judges it. */
  run(client: string): Promise<PairOutcome>;
  /** Stops every process it started, by PID. */
  stop(): Promise<void>;
}

/** Starts a setup's servers (the main one last: load-balance slaves first) and peer.sh. */
export async function startServerSetup(examples: ExamplesDir, setup: ServerSetup): Promise<RunningSetup> {
  const replacements = await freeReplacementsFor(setup.fixedPorts ?? []);
  const started: { stop(): Promise<unknown> }[] = [];
  const stop = async () => {
    await Promise.all(started.map((p) => p.stop()));
  };
  try {
    const database = await startExampleDatabase(examples, setup.database ?? 'sqlite');
    started.push(database);
    for (const [from, to] of database.replacements) replacements.set(from, to);
    for (const args of setup.turnadmin ?? []) {
      const admin = await runCoturnTurnadmin([...database.turnadmin, ...args], examples.dir);
      if (admin.exitInfo?.code !== 0) throw new Error(`turnadmin ${args.join(' ')} failed:\n${admin.output}`);
    }
    const servers: ExampleServer[] = [];
    for (const script of [...setup.servers].reverse()) {
      const server = await startExampleServer(examples, script, replacements);
      started.push(server);
      servers.push(server);
    }
    const peer = await startExamplePeer(examples);
    started.push(peer);
    const main = servers[servers.length - 1]!;
    const run = async (client: string) => judge(pairName(setup, client), await runExampleClient(examples, client, main, peer, CLIENT_TIMEOUT_MS));
    return { main, servers, run, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Runs a setup's `clients` (default: all of them) one after another, then stops everything. */
export async function runServerSetup(examples: ExamplesDir, setup: ServerSetup, clients: readonly string[] = setup.clients): Promise<PairOutcome[]> {
  const running = await startServerSetup(examples, setup);
  try {
    const outcomes: PairOutcome[] = [];
    for (const client of clients) outcomes.push(await running.run(client));
    return outcomes;
  } finally {
    await running.stop();
  }
}

