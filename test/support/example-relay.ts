// A Turnpike started with the flags of one of coturn's example relay scripts, on 127.0.0.1 and
// ::1 (-L and -E for each), with free listening ports and a relay range of `relayPorts`.
import { freePortRange, freeUdpTcpPortOnAll } from './ports.js';
import { startTurnpike, type TurnpikeHandle } from './turnpike-process.js';

export const EXAMPLE_HOSTS = ['127.0.0.1', '::1'];

export interface ExampleRelay {
  readonly process: TurnpikeHandle;
  readonly port: number;
  readonly tlsPort: number;
}

/** `flags`: the script's, less its ports, addresses and what only concerns coturn's process. */
export async function startExampleRelay(flags: readonly string[], relayPorts: number): Promise<ExampleRelay> {
  const port = await freeUdpTcpPortOnAll(EXAMPLE_HOSTS);
  const tlsPort = await freeUdpTcpPortOnAll(EXAMPLE_HOSTS);
  const minPort = await freePortRange('::1', relayPorts);
  const process = await startTurnpike([
    '-n', ...EXAMPLE_HOSTS.flatMap((h) => ['-L', h, '-E', h]), `--min-port=${minPort}`, `--max-port=${minPort + relayPorts - 1}`,
    ...flags, '--listening-port', String(port), '--tls-listening-port', String(tlsPort),
  ], '::1', port);
  return { process, port, tlsPort };
}
