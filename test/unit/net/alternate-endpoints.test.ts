// RFC 5780's address pairs: OTHER-ADDRESS and CHANGE-REQUEST's origins, per listening IP and port role.
import { describe, expect, it } from 'vitest';
import { AlternateEndpoints } from '../../../src/net/alternate-endpoints.js';

const MAIN = { tls: false, alt: false };
const ALT = { tls: false, alt: true };
const TLS = { tls: true, alt: false };
const TLS_ALT = { tls: true, alt: true };

function endpoints(ips: string[]): AlternateEndpoints {
  const e = new AlternateEndpoints(ips);
  for (const ip of ips) {
    e.add(ip, 3478, MAIN);
    e.add(ip, 3479, ALT);
    e.add(ip, 5349, TLS);
    e.add(ip, 5350, TLS_ALT);
  }
  return e;
}

describe('AlternateEndpoints', () => {
  it('names the next IP of the family on the other port of the pair, both ways', () => {
    const e = endpoints(['192.0.2.1', '2001:db8::1', '192.0.2.2']);
    expect(e.otherAddress({ family: 4, address: '192.0.2.1', port: 3478 })).toEqual({ family: 4, address: '192.0.2.2', port: 3479 });
    expect(e.otherAddress({ family: 4, address: '192.0.2.2', port: 3479 })).toEqual({ family: 4, address: '192.0.2.1', port: 3478 });
    expect(e.otherAddress({ family: 4, address: '192.0.2.1', port: 5349 })).toEqual({ family: 4, address: '192.0.2.2', port: 5350 });
  });

  it('changes the IP or the port alone', () => {
    const e = endpoints(['192.0.2.1', '192.0.2.2']);
    const local = { family: 4 as const, address: '192.0.2.1', port: 3478 };
    expect(e.changed(local, false, true)).toEqual({ ...local, port: 3479 });
    expect(e.changed(local, true, false)).toEqual({ ...local, address: '192.0.2.2' });
  });

  it('has none for an IP alone in its family, or a port outside the pairs', () => {
    const e = endpoints(['192.0.2.1', '2001:db8::1']);
    expect(e.otherAddress({ family: 6, address: '2001:db8::1', port: 3478 })).toBeUndefined();
    expect(endpoints(['192.0.2.1', '192.0.2.2']).otherAddress({ family: 4, address: '192.0.2.1', port: 443 })).toBeUndefined();
  });
});
