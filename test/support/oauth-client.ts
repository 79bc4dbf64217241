// RFC 7635 for tests: access tokens made by coturn's turnutils_oauth, and an Allocate that carries
// one (USERNAME = the key's kid, MESSAGE-INTEGRITY with the token's MAC key, as coturn's clients sign).
import { execFileSync } from 'node:child_process';
import { AttributeType, MessageBuilder, Method, StunClass, readString, type StunMessage } from '../../src/stun/index.js';
import { UdpTestClient } from './turn-client.js';

/** coturn's test keys (testsqldbsetup.sql, turnutils_uclient -J), as `oauth_key` rows. */
export const COTURN_TEST_KEYS = {
  north: { ikm: 'MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEK', alg: 'A256GCM', realm: 'crinna.org' },
  union: { ikm: 'MTIzNDU2Nzg5MDEyMzQ1Ngo=', alg: 'A128GCM', realm: 'north.gov' },
  oldempire: { ikm: 'MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIK', alg: 'A256GCM', realm: '' },
} as const;

export type TestKid = keyof typeof COTURN_TEST_KEYS;

export interface TokenSpec {
  readonly kid: TestKid;
  readonly serverName: string;
  /** 20 ASCII characters: turnutils_oauth takes the MAC key as a string. */
  readonly macKey: string;
  readonly lifetimeSeconds: number;
  /** Unix seconds the token's life starts; default now. */
  readonly timestamp?: number;
}

/** A token from `turnutils_oauth -e`, base64-decoded. */
export function turnutilsOauthToken(spec: TokenSpec): Buffer {
  const key = COTURN_TEST_KEYS[spec.kid];
  const args = [
    '-e', '-i', spec.serverName, '-j', spec.kid, '-k', key.ikm, '-n', key.alg,
    // The key's own timestamp and lifetime only feed the tool's warnings, but it insists on them.
    '-l', '1', '-m', '2000000000',
    '-p', Buffer.from(spec.macKey).toString('base64'), '-r', String(spec.lifetimeSeconds),
  ];
  if (spec.timestamp !== undefined) args.push('-q', String(BigInt(spec.timestamp) << 16n));
  const out = execFileSync('turnutils_oauth', args, { encoding: 'utf8', timeout: 10_000 });
  const token = /"access_token":"([^"]+)"/.exec(out)?.[1];
  if (!token) throw new Error(`turnutils_oauth printed no token:\n${out}`);
  return Buffer.from(token, 'base64');
}

/** coturn signs with the first 16 bytes of the MAC key (its long-term key size). */
export const coturnIntegrityKey = (macKey: string): Buffer => Buffer.from(macKey).subarray(0, 16);

/** The credentials of one OAuth request: the kid, the token (absent: the key kept from an earlier one) and the signing key. */
export interface OAuthSigning {
  readonly kid: string;
  readonly token?: Buffer;
  readonly integrityKey: Buffer;
}

/** A UDP client that learns REALM and NONCE from a challenge and signs as coturn's OAuth client does. */
export class OAuthTestClient {
  private constructor(
    readonly udp: UdpTestClient,
    readonly challenge: StunMessage,
  ) {}

  /** Opens a client and gets the server's challenge to an unsigned Allocate. */
  static async open(server: { address: string; port: number }): Promise<OAuthTestClient> {
    const udp = await UdpTestClient.open(server);
    const unsigned = new MessageBuilder(Method.Allocate, StunClass.Request).addFirstByte(AttributeType.RequestedTransport, 17);
    return new OAuthTestClient(udp, await udp.transact(unsigned));
  }

  request(method: number, signing: OAuthSigning, add: (b: MessageBuilder) => void = () => {}): Promise<StunMessage> {
    const builder = new MessageBuilder(method, StunClass.Request);
    add(builder);
    if (signing.token) builder.add(AttributeType.AccessToken, signing.token);
    builder
      .addString(AttributeType.Username, signing.kid)
      .addString(AttributeType.Realm, readString(this.challenge, AttributeType.Realm, 763) ?? '')
      .addString(AttributeType.Nonce, readString(this.challenge, AttributeType.Nonce, 763) ?? '');
    return this.udp.transact(builder, builder.build({ integrityKey: signing.integrityKey }));
  }

  allocate(signing: OAuthSigning): Promise<StunMessage> {
    return this.request(Method.Allocate, signing, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17));
  }

  close(): Promise<void> {
    return this.udp.close();
  }
}

/** The challenge to an unsigned Allocate, then the answer to one carrying `token`. */
export async function allocateWithToken(
  server: { address: string; port: number },
  kid: string,
  token: Buffer,
  integrityKey: Buffer,
): Promise<{ challenge: StunMessage; answer: StunMessage; client: OAuthTestClient }> {
  const client = await OAuthTestClient.open(server);
  const answer = await client.allocate({ kid, token, integrityKey });
  return { challenge: client.challenge, answer, client };
}
