// Which of coturn's example client scripts go with which server script (as its readme.txt and
// the scripts' names and users say), which are left out and why, and how a pair is judged.
import { boundDataConnections } from './coturn-tools.js';
import {
  clientFlags, freeReplacementsFor, runExampleClient, startExampleServer, startExamplePeer,
  type ExampleClientResult, type ExampleServer, type ExamplesDir,
} from './example-scripts.js';

export interface ServerSetup {
  /** The server scripts: the clients talk to the first; the others (load-balance slaves) start before it. */
  readonly servers: readonly string[];
  readonly clients: readonly string[];
  /** Ports the scripts fix (slaves' -p, alternate or auxiliary servers), made free ones for the run. */
  readonly fixedPorts?: readonly number[];
  /** Needs a feature that Turnpike may not have yet (see option-table's status). */
  readonly needs?: 'mobility';
}

const LONGTERM_CLIENTS = [
  'longtermsecure/secure_udp_client.sh', 'longtermsecure/secure_tcp_client.sh', 'longtermsecure/secure_tls_client.sh',
  'longtermsecure/secure_dtls_client.sh', 'longtermsecure/secure_udp_c2c.sh',
  'longtermsecure/secure_tcp_client_c2c_tcp_relay.sh', 'longtermsecure/secure_tls_client_c2c_tcp_relay.sh',
];

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
  ['longtermsecuredb/secure_relay_with_db_sqlite.sh', 'needs its users written to the database first: not yet scripted'],
  ['longtermsecuredb/secure_relay_with_db_redis.sh', 'needs a Redis server with its users on 127.0.0.1:6379 (a fixed port): not yet scripted'],
  ['longtermsecuredb/secure_relay_with_db_psql.sh', 'needs a PostgreSQL server: psql-userdb is not applied in Turnpike yet'],
  ['longtermsecuredb/secure_relay_with_db_mysql.sh', 'needs a MySQL server: mysql-userdb is not planned in Turnpike'],
  ['longtermsecuredb/secure_relay_with_db_mysql_ssl.sh', 'needs a MySQL server: mysql-userdb is not planned in Turnpike'],
  ['longtermsecuredb/secure_relay_with_db_mongo.sh', 'needs a MongoDB server: mongo-userdb is not planned in Turnpike (and Debian\'s coturn lacks MongoDB)'],
  ['restapi/secure_relay_secret_with_db_sqlite.sh', 'needs its secret written to the database first: not yet scripted'],
  ['restapi/secure_relay_secret_with_db_redis.sh', 'needs a Redis server with its secret on 127.0.0.1:6379 (a fixed port): not yet scripted'],
  ['restapi/secure_relay_secret_with_db_psql.sh', 'needs a PostgreSQL server: psql-userdb is not applied in Turnpike yet'],
  ['restapi/secure_relay_secret_with_db_mysql.sh', 'needs a MySQL server: mysql-userdb is not planned in Turnpike'],
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

/**
 * Starts a setup's servers (slaves first) and peer.sh, runs `clients` (default: all of the
 * setup's) one after another, stops every process by its PID, and returns each pair's outcome.
 */
export async function runServerSetup(examples: ExamplesDir, setup: ServerSetup, clients: readonly string[] = setup.clients): Promise<PairOutcome[]> {
  const replacements = await freeReplacementsFor(setup.fixedPorts ?? []);
  const started: { stop(): Promise<unknown> }[] = [];
  try {
    let main: ExampleServer | undefined;
    for (const script of [...setup.servers].reverse()) {
      const server = await startExampleServer(examples, script, replacements);
      started.push(server);
      main = server;
    }
    const peer = await startExamplePeer(examples);
    started.push(peer);
    const outcomes: PairOutcome[] = [];
    for (const client of clients) {
      outcomes.push(judge(pairName(setup, client), await runExampleClient(examples, client, main!, peer, CLIENT_TIMEOUT_MS)));
    }
    return outcomes;
  } finally {
    await Promise.all(started.map((p) => p.stop()));
  }
}
