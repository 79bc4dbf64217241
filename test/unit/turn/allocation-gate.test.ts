// alternate-server (coturn: 300 to every Allocate, rotated, by family) and drain (no new
// allocations: 300 where an alternate exists, else 403; a cluster-wide list sends to the other
// nodes), through the engine.
import { afterEach, describe, expect, it } from 'vitest';
import { AttributeType, MessageBuilder, Method, StunClass, readAddress } from '../../../src/stun/index.js';
import type { TransportAddress } from '../../../src/stun/ip.js';
import { closeEngineHarnesses, engineHarness } from '../../support/engine-harness.js';

afterEach(closeEngineHarnesses);
const udp = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17);
const redirect = (alternateServers: TransportAddress[]) => ({ redirect: { alternateServers, tlsAlternateServers: [], drainTimeoutSeconds: 60 } });

describe('alternate-server', () => {
  it('answers every Allocate with 300, rotating over the alternates of the client’s family', async () => {
    const a: TransportAddress = { family: 4, address: '192.0.2.1', port: 3478 };
    const b: TransportAddress = { family: 4, address: '192.0.2.2', port: 3479 };
    const v6: TransportAddress = { family: 6, address: '2001:db8::1', port: 3478 };
    const t = await engineHarness({ options: redirect([a, v6, b]) });
    const seen: (TransportAddress | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await t.client().request(Method.Allocate, udp);
      expect(t.code(response)).toBe(300);
      seen.push(readAddress(response, AttributeType.AlternateServer));
    }
    expect(seen).toEqual([a, b, a]);
    expect(t.engine.allocations.size).toBe(0);
  });

  it('sends a retransmitted Allocate where its first transmission was sent, without taking a turn (its answer may have been withheld)', async () => {
    const a: TransportAddress = { family: 4, address: '192.0.2.1', port: 3478 };
    const b: TransportAddress = { family: 4, address: '192.0.2.2', port: 3479 };
    const t = await engineHarness({ options: redirect([a, b]) });
    const c = t.client();
    const unsigned = () => {
      const builder = new MessageBuilder(Method.Allocate, StunClass.Request);
      udp(builder);
      return builder.build();
    };
    const first = unsigned();
    const alternateOf = async (request: Buffer) => readAddress((await c.answersTo(request))[0]!, AttributeType.AlternateServer);
    expect(await alternateOf(first)).toEqual(a);
    expect(await alternateOf(first)).toEqual(a);
    expect(await alternateOf(unsigned())).toEqual(b);
    expect(await alternateOf(unsigned())).toEqual(a);
  });

  it('redirects nobody when the list names the address the client reached (one list for a whole cluster)', async () => {
    const here: TransportAddress = { family: 4, address: '127.0.0.1', port: 3478 };
    const t = await engineHarness({ options: redirect([{ family: 4, address: '192.0.2.1', port: 3478 }, here]) });
    expect((await t.request(Method.Allocate, udp)).cls).toBe(StunClass.SuccessResponse);
  });

  it('serves the client when no alternate is of its family', async () => {
    const t = await engineHarness({ options: redirect([{ family: 6, address: '2001:db8::1', port: 3478 }]) });
    expect((await t.request(Method.Allocate, udp)).cls).toBe(StunClass.SuccessResponse);
  });
});

describe('drain', () => {
  it('refuses new allocations with 403 and goes on serving the open ones', async () => {
    const t = await engineHarness();
    expect((await t.request(Method.Allocate, udp)).cls).toBe(StunClass.SuccessResponse);
    t.engine.drain();
    const refused = await t.client().request(Method.Allocate, udp);
    expect(t.code(refused)).toBe(403);
    // The request was signed, so is the refusal: a client drops unsigned errors to signed requests.
    expect(refused.messageIntegrity).toBeDefined();
    expect((await t.request(Method.Refresh, (b) => b.addUint32(AttributeType.Lifetime, 600))).cls).toBe(StunClass.SuccessResponse);
    // The gate is for new allocations only: a second Allocate on this 5-tuple is a mismatch, as ever.
    expect(t.code(await t.request(Method.Allocate, udp))).toBe(437);
  });

  it('sends newcomers to the other nodes of a list that names this one, never back here', async () => {
    const here: TransportAddress = { family: 4, address: '127.0.0.1', port: 3478 };
    const others: TransportAddress[] = [{ family: 4, address: '192.0.2.2', port: 3478 }, { family: 4, address: '192.0.2.3', port: 3478 }];
    const t = await engineHarness({ options: redirect([here, ...others]) });
    t.engine.drain();
    const seen: (TransportAddress | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await t.client().request(Method.Allocate, udp);
      expect(t.code(response)).toBe(300);
      seen.push(readAddress(response, AttributeType.AlternateServer));
    }
    expect(seen).toEqual([others[0], others[1], others[0]]);
  });
});
