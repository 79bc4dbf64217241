import { describe, expect, it } from 'vitest';
import { optionChanges, reloadedOptions } from '../../../src/config/option-changes.js';
import { longTermKey } from '../../../src/stun/index.js';
import { testServerOptions } from '../../support/server-options.js';

describe('what a reload may change', () => {
  it('takes users, peer rules and quotas at once; names addresses and ports as needing a restart', async () => {
    const before = await testServerOptions();
    const after = {
      ...before,
      users: [...before.users, { name: 'bob', key: longTermKey('bob', before.realm, 'pw') }],
      deniedPeerIps: ['192.0.2.0/24'],
      userQuota: 3,
      listeningPort: before.listeningPort + 1,
      minPort: before.minPort + 1,
    };
    const changes = optionChanges(before, after);
    expect([...changes.live].sort()).toEqual(['denied-peer-ip', 'user', 'user-quota']);
    expect([...changes.needsRestart].sort()).toEqual(['listening-port', 'min-port']);

    const running = reloadedOptions(before, after);
    expect(running.users).toHaveLength(2);
    expect(running.userQuota).toBe(3);
    expect(running.listeningPort).toBe(before.listeningPort);
    expect(running.minPort).toBe(before.minPort);
  });

  it('keeps CA-file until a restart, and takes the other TLS settings beside it', async () => {
    const before = await testServerOptions();
    const added = { ...before, tls: { ...before.tls, caFile: '/etc/turn/ca.pem' } };
    expect(optionChanges(before, added)).toEqual({ live: [], needsRestart: ['CA-file'] });
    expect(reloadedOptions(before, added).tls.caFile).toBeUndefined();

    const renewed = { ...before, tls: { ...before.tls, cert: '/etc/turn/new-cert.pem', caFile: undefined } };
    expect(optionChanges(added, renewed)).toEqual({ live: ['cert, pkey and TLS settings'], needsRestart: ['CA-file'] });
    expect(reloadedOptions(added, renewed).tls).toEqual({ ...renewed.tls, caFile: '/etc/turn/ca.pem' });
  });

  it('sees no change in equal values built anew (keys, maps, nested settings)', async () => {
    const before = await testServerOptions();
    const copy = structuredClone(before);
    const rebuilt = { ...copy, users: before.users.map((u) => ({ ...u, key: Buffer.from(u.key) })), externalIps: new Map(before.externalIps) };
    expect(optionChanges(before, rebuilt)).toEqual({ live: [], needsRestart: [] });
  });
});
