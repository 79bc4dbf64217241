// A native socket's IPv6 source address, read from the addon's four host-order words, is the
// text Node's own sockets report (rinfo.address): permissions are looked up by that text.
import { SocketAddress } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ipv6Text } from '../../../src/net/native-udp/io.js';
import { ipv6ToBytes } from '../../../src/stun/ip.js';

/** The words the addon writes for `address` (native/udp-io.h writeAddress). */
function words(address: string): Int32Array {
  const bytes = new DataView(ipv6ToBytes(address).buffer);
  return Int32Array.from([0, 1, 2, 3], (i) => bytes.getInt32(4 * i));
}

describe('native UDP IPv6 source text', () => {
  it.each(['::1', '::', 'fe80::1', '2001:db8:0:0:1:0:0:1', '1:0:0:2:0:0:0:3', '2001:db8::', '::2', 'ff02::1:ff00:1', '64:ff9b::102:304', '::102:304', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'])(
    '%s reads as Node writes it',
    (address) => {
      expect(ipv6Text(words(address), 0)).toBe(new SocketAddress({ address, family: 'ipv6' }).address);
    },
  );
});
