// What a TURN client learns from challenges (REALM, NONCE) and how it signs with it: shared
// by the UDP and the stream test clients so that both answer 401 and 438 the same way.
import { AttributeType, MessageBuilder, StunClass, longTermKey, readErrorCode, readString, type StunMessage } from '../../src/stun/index.js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export class LongTermSession {
  realm: string | undefined;
  nonce: string | undefined;

  constructor(readonly credentials: Credentials | undefined) {}

  get key(): Buffer | undefined {
    if (!this.credentials || this.realm === undefined) return undefined;
    return longTermKey(this.credentials.username, this.realm, this.credentials.password);
  }

  /** The request sealed with USERNAME, REALM, NONCE and integrity once a challenge taught them. */
  seal(builder: MessageBuilder, fingerprint: boolean): Buffer {
    if (!this.credentials || this.realm === undefined || this.nonce === undefined) return builder.build({ fingerprint });
    builder
      .addString(AttributeType.Username, this.credentials.username)
      .addString(AttributeType.Realm, this.realm)
      .addString(AttributeType.Nonce, this.nonce);
    return builder.build({ integrityKey: this.key, fingerprint });
  }

  /** Learns from a 401 (the first) or 438; true when the request should be sent again. */
  learn(response: StunMessage): boolean {
    const code = readErrorCode(response, AttributeType.ErrorCode)?.code;
    if (!((code === 401 && this.nonce === undefined) || code === 438)) return false;
    this.realm = readString(response, AttributeType.Realm, 763);
    this.nonce = readString(response, AttributeType.Nonce, 763);
    return this.credentials !== undefined;
  }

  /** Sends (by `exchange`) the request built by `add` until no challenge is left to answer. */
  async request(method: number, add: (b: MessageBuilder) => void, exchange: (builder: MessageBuilder, sealed: Buffer) => Promise<StunMessage>, fingerprint: boolean): Promise<StunMessage> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const builder = new MessageBuilder(method, StunClass.Request);
      add(builder);
      const response = await exchange(builder, this.seal(builder, fingerprint));
      if (!this.learn(response)) return response;
    }
    throw new Error('challenge loop did not settle');
  }
}
