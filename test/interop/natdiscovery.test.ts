// RFC 5780 NAT behaviour discovery as coturn's own client sees it: turnutils_natdiscovery
// draws the same conclusions from Turnpike as from coturn 4.6.1, both on 127.0.0.1 and
// 127.0.0.2 with the alternative port (port + 1), also with relay workers.
import { afterAll, describe, expect, it } from 'vitest';
import { natBehaviourLines, runNatdiscovery, startCoturn } from '../support/coturn-tools.js';
import { freePortPairOnAll } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { startTurnpike } from '../support/turnpike-process.js';

const IPS = ['127.0.0.1', '127.0.0.2'];
const HOST = IPS[0]!;
const listeningArgs = (port: number): string[] => [...IPS.flatMap((ip) => ['--listening-ip', ip]), '--listening-port', String(port)];
const FLAG_SETS = [['-m', '-f'], ['-H'], ['-P', '-m', '-f']];

async function coturnLines(): Promise<string[][]> {
  const port = await freePortPairOnAll(IPS);
  const coturn = await startCoturn(listeningArgs(port));
  try {
    const lines: string[][] = [];
    for (const flags of FLAG_SETS) lines.push(natBehaviourLines(await runNatdiscovery(flags, HOST, port)));
    return lines;
  } finally {
    await coturn.stop();
  }
}

async function turnpikeLines(extra: string[]): Promise<string[][]> {
  const port = await freePortPairOnAll(IPS);
  const turnpike = await startTurnpike(['-n', ...listeningArgs(port), '--no-tls', '--no-dtls', ...extra], HOST, port);
  try {
    // Every listener is bound once this is said (the readiness probe only saw the first).
    await turnpike.proc.waitForOutput(/RFC 5780 NAT behaviour discovery on/, 10_000);
    const lines: string[][] = [];
    for (const flags of FLAG_SETS) lines.push(natBehaviourLines(await runNatdiscovery(flags, HOST, port)));
    return lines;
  } finally {
    await turnpike.stop();
  }
}

describe('turnutils_natdiscovery against Turnpike and coturn on two IPs', () => {
  afterAll(() => stopAllProcesses());

  it('draws the same conclusions from both, with one event loop and with relay workers', { timeout: 240_000 }, async () => {
    const reference = await coturnLines();
    // The reference concludes something: the comparison is not between two silences.
    expect(reference[0]).toEqual(expect.arrayContaining(['NAT with Endpoint Independent Mapping!', 'NAT with Endpoint Independent Filtering!']));
    expect(reference[1]!.some((l) => l.includes('hairpinning'))).toBe(true);
    expect(await turnpikeLines([])).toEqual(reference);
    expect(await turnpikeLines(['--relay-threads', '2'])).toEqual(reference);
  });
});
