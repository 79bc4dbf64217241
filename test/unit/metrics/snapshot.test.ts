// The scrape-time view: ended totals plus live allocations, each allocation counted once.
import { describe, expect, it } from 'vitest';
import { TrafficLedger, takeSnapshot, type AllocationView } from '../../../src/metrics/snapshot.js';
import type { TransportAddress } from '../../../src/stun/index.js';

const V4: TransportAddress = { family: 4, address: '127.0.0.1', port: 50000 };
const V6: TransportAddress = { family: 6, address: '::1', port: 50000 };

// What a scrape reads of an allocation, as data: the engine's own objects are exercised by
// test/integration/metrics.test.ts.
function allocation(username: string, realm: string, relayAddresses: TransportAddress[] = [V4], permissionCount = 0, channelCount = 0): AllocationView {
  return {
    realm, username, relayAddresses, permissionCount, channelCount, session: { transport: 'udp' },
    packetsFromClient: 2, bytesFromClient: 200, packetsToClient: 3, bytesToClient: 300,
  };
}

describe('the metrics snapshot', () => {
  it('adds live allocations to the ended totals of their realm', () => {
    const ledger = new TrafficLedger(false);
    const ended = allocation('alice', 'r1');
    ledger.allocationEnded(ended);
    ledger.allocationEnded(ended); // a second report of the same ending changes nothing
    const snap = takeSnapshot([allocation('bob', 'r1'), allocation('carol', 'r2')], ledger);
    expect(snap.traffic.get('r1')).toEqual({ realm: 'r1', user: undefined, traffic: { fromClientPackets: 4, fromClientBytes: 400, toClientPackets: 6, toClientBytes: 600 } });
    expect(snap.traffic.get('r2')?.traffic.toClientBytes).toBe(300);
  });

  it('keeps users apart with username labels', () => {
    const ledger = new TrafficLedger(true);
    const snap = takeSnapshot([allocation('alice', 'r'), allocation('bob', 'r')], ledger);
    expect([...snap.traffic.values()].map((s) => [s.realm, s.user, s.traffic.fromClientBytes])).toEqual([
      ['r', 'alice', 200],
      ['r', 'bob', 200],
    ]);
  });

  it('does not let a scrape change the ended totals', () => {
    const ledger = new TrafficLedger(false);
    ledger.allocationEnded(allocation('alice', 'r'));
    takeSnapshot([allocation('bob', 'r')], ledger);
    expect(takeSnapshot([], ledger).traffic.get('r')?.traffic.fromClientBytes).toBe(200);
  });

  it('counts allocations by transport and relay family, and their permissions and channels', () => {
    const dual = allocation('a', 'r', [V4, V6], 2, 1);
    const snap = takeSnapshot([dual, allocation('b', 'r', [V6], 1, 3), allocation('c', 'r')], new TrafficLedger(false));
    expect(Object.fromEntries(snap.allocations.get('udp') ?? [])).toEqual({ dual: 1, ipv6: 1, ipv4: 1 });
    expect([snap.permissions, snap.channels]).toEqual([3, 4]);
  });
});
