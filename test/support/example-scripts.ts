// coturn's own example scripts, as Debian installs them, run unchanged but for what keeps them
// safe here: copied to a temp examples dir with the files they name, their server picked by a
// bin/turnserver wrapper (which their PATH=./bin/:... finds first), free ports through `$@`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { issueCertificate, makeCertificate } from './certs.js';
import { parseUclientOutput, type UclientCounts } from './coturn-tools.js';
import { freePortRange, freeUdpTcpPortsOnAll } from './ports.js';
import { startProcess, waitForUdpStun, waitUntilReady, type ProcessHandle } from './processes.js';
import { ROOT } from './turnpike-process.js';

export const INSTALLED_SCRIPTS = '/usr/share/doc/coturn/examples/scripts';
const COTURN = '/usr/bin/turnserver';
const NODE = path.join(ROOT, 'node_modules/node/bin/node');
const TURNPIKE_TURNSERVER = path.join(ROOT, 'dist/cli/turnserver.js');
/** The scripts' servers and clients use both loopbacks; every port we pick is free on each. */
const LOOPBACKS = ['127.0.0.1', '::1'];
/** A listening port and the next: coturn listens on port + 1 too (RFC 5780), turnutils_peer binds it. */
const freeListeningPort = () => freeUdpTcpPortsOnAll(LOOPBACKS, 2);
/**
 * Relay ports per server, for every pair of its setup at once (the test runs them together):
 * the busiest setup runs 7 client scripts; each opens at most 10 clients (-m 10), both ends
 * allocate in c2c (-y), and each end holds an RTP/RTCP port pair (EVEN-PORT and its
 * RESERVATION-TOKEN): 7 × 10 × 2 × 2 = 280 ports. With relay-threads (the servers' -m, up to
 * 10) each worker owns every 10th port pair and allocates for the clients the kernel hashes to
 * it, unevenly for a few dozen clients: with 400 ports one worker's 40 ran out (508). So every
 * worker's share holds the whole setup: 280 × 10.
 */
const RELAY_PORTS = 2800;

export type ServerUnderTest = 'turnpike' | 'coturn';

export interface ExamplesDir {
  readonly dir: string;
  readonly server: ServerUnderTest;
  remove(): void;
}

/** The installed scripts, or a clear failure: the interop tests need Debian's coturn package. */
export function installedScripts(): string {
  if (!fs.existsSync(path.join(INSTALLED_SCRIPTS, 'peer.sh'))) {
    throw new Error(`coturn's example scripts are not installed at ${INSTALLED_SCRIPTS}: install Debian's coturn package (apt-get install coturn)`);
  }
  return INSTALLED_SCRIPTS;
}

/**
 * A temp examples dir as coturn's source tree lays it out (the scripts run from there): the
 * scripts, the certificates they name (a CA, a server certificate it issued), var/db/, and a
 * bin/turnserver that runs `server`.
 */
export function prepareExamplesDir(server: ServerUnderTest): ExamplesDir {
  const source = installedScripts();
  if (server === 'turnpike' && !fs.existsSync(TURNPIKE_TURNSERVER)) throw new Error(`${TURNPIKE_TURNSERVER} not found (build Turnpike: npm run build)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `examples-${server}-`));
  fs.cpSync(source, path.join(dir, 'scripts'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'var/db'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'bin'));
  const ca = makeCertificate('example-ca');
  const issued = issueCertificate(ca, 'localhost');
  fs.copyFileSync(ca.cert, path.join(dir, 'cacert.pem'));
  fs.copyFileSync(issued.cert, path.join(dir, 'turn_server_cert.pem'));
  fs.copyFileSync(issued.key, path.join(dir, 'turn_server_pkey.pem'));
  // The clients' -k without -i: a key only, so they present no certificate.
  fs.copyFileSync(issued.key, path.join(dir, 'turn_client_pkey.pem'));
  ca.remove();
  issued.remove();
  const command = server === 'coturn' ? `"${COTURN}"` : `"${NODE}" "${TURNPIKE_TURNSERVER}"`;
  fs.writeFileSync(path.join(dir, 'bin/turnserver'), `#!/bin/sh\n# The server under test for coturn's example scripts.\nexec ${command} "$@"\n`, { mode: 0o755 });
  return { dir, server, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Writes the script `name` (e.g. `longtermsecure/secure_relay.sh`) into the examples dir from
 * the installed copy, with `replacements` made in its text, and its command run by `exec` so
 * that the shell's PID is the program's: stopping that PID stops the program.
 */
function writeScript(examples: ExamplesDir, name: string, replacements: ReadonlyMap<string, string> = new Map()): string {
  const text = replaceAll(fs.readFileSync(path.join(installedScripts(), name), 'utf8'), replacements).replace(/^(PATH=(?:"[^"]*"|\S+)) (turnserver|turnutils_uclient|turnutils_peer) /m, '$1 exec $2 ');
  if (!/ exec (turnserver|turnutils_uclient|turnutils_peer) /.test(text)) throw new Error(`${name}: no turnserver, turnutils_uclient or turnutils_peer command found`);
  const file = path.join(examples.dir, 'scripts', name);
  fs.writeFileSync(file, text);
  return file;
}

function replaceAll(text: string, replacements: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [from, to] of replacements) out = out.split(from).join(to);
  return out;
}

/** The uclient or turnserver command line of an installed script, for reading its flags. */
export function scriptCommand(name: string): string {
  const text = fs.readFileSync(path.join(installedScripts(), name), 'utf8');
  const line = text.split('\n').find((l) => /^PATH=\S+ (turnserver|turnutils_uclient) /.test(l.replace(/"[^"]*"/, 'X')));
  if (!line) throw new Error(`${name}: no command line`);
  return line;
}

/** A script's fixed ports (listening, alternate or auxiliary servers) and the free ones that replace them. */
export async function freeReplacementsFor(fixedPorts: readonly number[]): Promise<Map<string, string>> {
  const replacements = new Map<string, string>();
  for (const fixed of fixedPorts) {
    const port = await freeListeningPort();
    // Only whole port numbers: `:3333`, `-p 3333` (never a digit run inside another number).
    replacements.set(`:${fixed} `, `:${port} `);
    replacements.set(`-p ${fixed} `, `-p ${port} `);
  }
  return replacements;
}

export interface ExampleServer {
  readonly script: string;
  readonly port: number;
  readonly tlsPort: number;
  readonly proc: ProcessHandle;
  stop(): Promise<unknown>;
}

/**
 * Runs a server script with free ports and safe paths through `$@` (after the script's own
 * flags: for both servers the last --min-port, --listening-port, ... wins): no config file
 * (-n), no telnet CLI, pid file and user database in the examples dir.
 */
export async function startExampleServer(examples: ExamplesDir, name: string, replacements: ReadonlyMap<string, string> = new Map()): Promise<ExampleServer> {
  const file = writeScript(examples, name, replacements);
  // A script's own fixed listening port, replaced: passed again, it stays.
  const own = /\s-p (\d+)\s/.exec(` ${replaceAll(scriptCommand(name), replacements)} `);
  const port = own ? Number(own[1]) : await freeListeningPort();
  const tlsPort = await freeListeningPort();
  const minPort = await freePortRange('127.0.0.1', RELAY_PORTS);
  const base = path.basename(name, '.sh');
  const args = ['-n', '--no-cli', '--pidfile', `var/${base}.pid`, '-p', String(port), '--tls-listening-port', String(tlsPort),
    '--min-port', String(minPort), '--max-port', String(minPort + RELAY_PORTS - 1)];
  // Without one named, coturn opens its default database, /var/lib/turn/turndb.
  if (!/--(db|userdb|[a-z]+-userdb)=/.test(scriptCommand(name))) args.push('--db', 'var/db/turndb');
  const proc = startProcess('sh', [file, ...args], { cwd: examples.dir });
  await waitUntilReady(proc, waitForUdpStun('127.0.0.1', port, 60_000), name);
  return { script: name, port, tlsPort, proc, stop: () => proc.stop() };
}

export interface ExamplePeer {
  readonly port: number;
  readonly proc: ProcessHandle;
  stop(): Promise<unknown>;
}

/** peer.sh on a free port, less its `-L 0.0.0.0` (the tests stay on loopback). */
export async function startExamplePeer(examples: ExamplesDir): Promise<ExamplePeer> {
  const file = writeScript(examples, 'peer.sh', new Map([[' -L 0.0.0.0', '']]));
  const port = await freeListeningPort();
  const proc = startProcess('sh', [file, '-p', String(port)], { cwd: examples.dir });
  await waitUntilReady(proc, waitForUdpStun('127.0.0.1', port, 5000), 'peer.sh');
  return { port, proc, stop: () => proc.stop() };
}

/** What a client script did: uclient's counts, and its flags that say what to expect. */
export interface ExampleClientResult extends UclientCounts {
  readonly script: string;
  readonly timedOut: boolean;
  readonly wallMs: number;
}

/**
 * Runs a client script against `server` (its TLS port when the script uses -S) and `peer`,
 * through `$@`: `-p <port> -r <peer port>`. Killed by its PID after `timeoutMs`.
 */
export async function runExampleClient(examples: ExamplesDir, name: string, server: ExampleServer, peer: ExamplePeer, timeoutMs: number): Promise<ExampleClientResult> {
  const file = writeScript(examples, name);
  const port = clientFlags(name).secure ? server.tlsPort : server.port;
  const started = Date.now();
  // stdbuf -oL (inherited through sh's exec): a killed uclient's output is not lost in a buffer.
  const proc = startProcess('stdbuf', ['-oL', 'sh', file, '-p', String(port), '-r', String(peer.port)], { cwd: examples.dir });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void proc.stop();
  }, timeoutMs);
  const info = await proc.exited;
  clearTimeout(timer);
  return { ...parseUclientOutput(proc.output, info.code), script: name, timedOut, wallMs: Date.now() - started };
}

/** The flags of a client script that decide where it connects and what success looks like. */
export interface ClientFlags {
  /** -S: TLS (with -t or -T) or DTLS. */
  readonly secure: boolean;
  /** -T: RFC 6062 TCP relay, client to client; each of the -m clients binds one data connection to each other. */
  readonly tcpRelayC2c: boolean;
  /** -m */
  readonly clients: number;
}

export function clientFlags(name: string): ClientFlags {
  const line = ` ${scriptCommand(name)} `;
  const clients = /\s-m (\d+)\s/.exec(line);
  return { secure: /\s-S\s/.test(line), tcpRelayC2c: /\s-T\s/.test(line), clients: clients ? Number(clients[1]) : 1 };
}
