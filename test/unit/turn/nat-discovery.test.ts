// What a Binding request asks of RFC 5780, and what coturn refuses, read from real encoded messages.
import { describe, expect, it } from 'vitest';
import { AttributeType, MessageBuilder, Method, StunClass, decodeMessage } from '../../../src/stun/index.js';
import { readDiscoveryRequest } from '../../../src/turn/nat-discovery.js';

const request = (add: (b: MessageBuilder) => void) => {
  const builder = new MessageBuilder(Method.Binding, StunClass.Request);
  add(builder);
  return decodeMessage(builder.build());
};
const change = (flags: number) => request((b) => b.addUint32(AttributeType.ChangeRequest, flags));
const padding = (b: MessageBuilder) => b.add(AttributeType.Padding, Buffer.alloc(8));
const responsePort = (b: MessageBuilder) => b.add(AttributeType.ResponsePort, Buffer.from([0x12, 0x34, 0, 0]));

describe('readDiscoveryRequest', () => {
  it('reads change IP, change port, RESPONSE-PORT and PADDING', () => {
    expect(readDiscoveryRequest(change(0x06), 'udp', true)).toEqual({ changeIp: true, changePort: true, padding: false });
    expect(readDiscoveryRequest(request(responsePort), 'udp', true)).toEqual({ changeIp: false, changePort: false, padding: false, responsePort: 0x1234 });
    expect(readDiscoveryRequest(request(padding), 'dtls', true)).toEqual({ changeIp: false, changePort: false, padding: true });
  });

  it('refuses a change without RFC 5780 with 420, and accepts an empty CHANGE-REQUEST', () => {
    expect(readDiscoveryRequest(change(0x04), 'udp', false)).toMatchObject({ code: 420 });
    expect(readDiscoveryRequest(change(0), 'udp', false)).toEqual({ changeIp: false, changePort: false, padding: false });
  });

  it('refuses what only UDP can do over streams, and PADDING with RESPONSE-PORT', () => {
    expect(readDiscoveryRequest(change(0x02), 'tcp', true)).toEqual({ code: 400, reason: 'Wrong request: applicable only to UDP protocol' });
    expect(readDiscoveryRequest(request(responsePort), 'dtls', true)).toMatchObject({ code: 400 });
    expect(readDiscoveryRequest(request(padding), 'tls', true)).toMatchObject({ code: 400 });
    expect(readDiscoveryRequest(request((b) => responsePort(padding(b))), 'udp', true)).toMatchObject({ code: 400 });
    expect(readDiscoveryRequest(request((b) => b.add(AttributeType.ResponsePort, Buffer.from([1, 2]))), 'udp', true)).toEqual({ code: 400, reason: 'Wrong response port format' });
  });
});
