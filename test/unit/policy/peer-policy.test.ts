// Peer addresses are judged as what they really reach: embedded IPv4 forms included.
import { describe, expect, it } from 'vitest';
import { PeerPolicy, effectiveAddress } from '../../../src/policy/peer-policy.js';
import { parseIpRange } from '../../../src/policy/ip-range.js';
import { ServicePorts } from '../../../src/policy/service-ports.js';

const closed = new PeerPolicy({ allowLoopbackPeers: false });
const loopbackOpen = new PeerPolicy({ allowLoopbackPeers: true });

describe('peer policy', () => {
  it.each([
    '127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1', '::127.0.0.1', '64:ff9b::7f00:1', '2002:7f00:1::1',
    '10.0.0.1', '172.16.5.5', '192.168.0.1', '100.64.0.1', '169.254.169.254', 'fe80::1', 'fc00::1', 'fd12::1',
    '224.0.0.1', 'ff02::1', '255.255.255.255', '0.0.0.0', '::', '192.0.2.1', '198.18.0.1', '240.0.0.1', '2001:db8::1',
    '::ffff:10.0.0.1', '::ffff:169.254.169.254',
  ])('refuses %s by default', (address) => {
    const decision = closed.check(address);
    expect(decision.allowed).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2001:4860:4860::8888', '::ffff:8.8.8.8', '64:ff9b::808:808'])('allows the public address %s', (address) => {
    expect(closed.check(address).allowed).toBe(true);
  });

  it('opens loopback (in every form) with allow-loopback-peers, and nothing else', () => {
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '2002:7f00:1::1']) expect(loopbackOpen.check(address).allowed).toBe(true);
    for (const address of ['10.0.0.1', '0.0.0.0', '::', '169.254.169.254']) expect(loopbackOpen.check(address).allowed).toBe(false);
  });

  it("with allow-loopback-peers, opens every loopback port but the server's own service ports", () => {
    const policy = new PeerPolicy({
      allowLoopbackPeers: true,
      ownAddresses: ['127.0.0.1', '::1', '1.2.3.4'],
      relayPorts: { min: 49152, max: 65535 },
      servicePorts: new ServicePorts([3478, 5349, 9641]),
    });
    for (const address of ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1', '::127.0.0.1']) {
      expect(policy.check(address, 3480).allowed, address).toBe(true);
      expect(policy.isPeerPort(address, 3480), address).toBe(true);
      for (const port of [3478, 5349, 9641]) {
        expect(policy.check(address, port).allowed, `${address}:${port}`).toBe(false);
        expect(policy.isPeerPort(address, port), `${address}:${port}`).toBe(false);
      }
    }
    // A non-loopback own address stays limited to the relay range.
    expect(policy.check('1.2.3.4', 3480).allowed).toBe(false);
    expect(policy.isPeerPort('::ffff:1.2.3.4', 3480)).toBe(false);
    expect(policy.check('1.2.3.4', 50000).allowed).toBe(true);
  });

  it("refuses a service port that falls inside the relay range on the server's own address", () => {
    const policy = new PeerPolicy({ allowLoopbackPeers: false, ownAddresses: ['1.2.3.4'], relayPorts: { min: 49152, max: 65535 }, servicePorts: new ServicePorts([50000]) });
    expect(policy.check('1.2.3.4', 50000).allowed).toBe(false);
    for (let i = 0; i < 2; i++) {
      // twice: the second answer comes from the per-address cache
      expect(policy.isPeerPort('1.2.3.4', 50000)).toBe(false);
      expect(policy.isPeerPort('1.2.3.4', 50001)).toBe(true);
    }
  });

  it('without allow-loopback-peers, allowed-peer-ip alone opens a loopback address on every port', () => {
    const policy = new PeerPolicy({ allowLoopbackPeers: false, allowed: ['127.0.0.1'], ownAddresses: ['127.0.0.1'], servicePorts: new ServicePorts([3478]) });
    expect(policy.check('127.0.0.1', 3478).allowed).toBe(true);
    expect(policy.check('127.0.0.2', 3480).allowed).toBe(false);
  });

  it('names the rule and how to open it when it refuses', () => {
    const decision = closed.check('::ffff:127.0.0.1');
    expect(decision.allowed).toBe(false);
    if (!decision.allowed) expect(decision.rule).toMatch(/carries 127\.0\.0\.1.*loopback.*allow-loopback-peers/);
  });

  it('reduces embedded IPv4 forms to the IPv4 address', () => {
    expect(effectiveAddress('::ffff:1.2.3.4')).toEqual({ family: 4, address: '1.2.3.4' });
    expect(effectiveAddress('64:ff9b::102:304')).toEqual({ family: 4, address: '1.2.3.4' });
    expect(effectiveAddress('2002:102:304::')).toEqual({ family: 4, address: '1.2.3.4' });
    expect(effectiveAddress('2001:4860::1')).toEqual({ family: 6, address: '2001:4860::1' });
  });

  it('parses CIDR, single addresses and coturn ranges', () => {
    expect(parseIpRange('10.0.0.0/8').last).toBe(parseIpRange('10.255.255.255').first);
    expect(parseIpRange('1.2.3.4-1.2.3.9').last - parseIpRange('1.2.3.4-1.2.3.9').first).toBe(5n);
    expect(() => parseIpRange('1.2.3.9-1.2.3.4')).toThrow(/order/);
    expect(() => parseIpRange('10.0.0.0/33')).toThrow(/prefix/);
  });
});
