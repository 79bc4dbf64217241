// What a TURN client learns from challenges (REALM, NONCE) and how it signs with it: shared
// by the UDP and the stream test clients so that both answer 401 and 438 the same way.
import {
  AttributeType,
  MessageBuilder,
  StunClass,
  longTermKey,
  readBytes,
  readErrorCode,
  readString,
  userHash,
  type PasswordAlgorithm,
  type StunMessage,
} from '../../src/stun/index.js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** How an RFC 8489 client answers a challenge that offers PASSWORD-ALGORITHMS (§9.2.5). */
export interface Rfc8489Client {
  /** The algorithm it picks from the list (its number in PASSWORD-ALGORITHM). */
  readonly algorithm: PasswordAlgorithm;
  /** USERHASH in place of USERNAME. */
  readonly userhash?: boolean;
  /** A bid-down attempt: PASSWORD-ALGORITHMS echoed as this (undefined: as received; null: left out). */
  readonly echoedAlgorithms?: Buffer | null;
  /** PASSWORD-ALGORITHM left out. */
  readonly omitChosen?: boolean;
}

const ALGORITHM_NUMBERS: Record<PasswordAlgorithm, number> = { md5: 0x0001, sha256: 0x0002 };

export class LongTermSession {
  realm: string | undefined;
  nonce: string | undefined;
  /** PASSWORD-ALGORITHMS as the last challenge had it. */
  passwordAlgorithms: Buffer | undefined;
  /** Set, the client speaks RFC 8489: it names its algorithm and signs with MESSAGE-INTEGRITY-SHA256. */
  rfc8489: Rfc8489Client | undefined;

  constructor(readonly credentials: Credentials | undefined) {}

  get key(): Buffer | undefined {
    if (!this.credentials || this.realm === undefined) return undefined;
    return longTermKey(this.credentials.username, this.realm, this.credentials.password, this.rfc8489?.algorithm ?? 'md5');
  }

  /** The request sealed with USERNAME, REALM, NONCE and integrity once a challenge taught them. */
  seal(builder: MessageBuilder, fingerprint: boolean): Buffer {
    if (!this.credentials || this.realm === undefined || this.nonce === undefined) return builder.build({ fingerprint });
    const rfc8489 = this.rfc8489;
    if (rfc8489?.userhash) builder.add(AttributeType.Userhash, userHash(this.credentials.username, this.realm));
    else builder.addString(AttributeType.Username, this.credentials.username);
    builder.addString(AttributeType.Realm, this.realm).addString(AttributeType.Nonce, this.nonce);
    if (!rfc8489) return builder.build({ integrityKey: this.key, fingerprint });
    const echoed = rfc8489.echoedAlgorithms === undefined ? this.passwordAlgorithms : rfc8489.echoedAlgorithms;
    if (echoed) builder.add(AttributeType.PasswordAlgorithms, echoed);
    if (!rfc8489.omitChosen) builder.add(AttributeType.PasswordAlgorithm, Buffer.from([0, ALGORITHM_NUMBERS[rfc8489.algorithm], 0, 0]));
    return builder.build({ integritySha256Key: this.key, fingerprint });
  }

  /** Learns from a 401 (the first) or 438; true when the request should be sent again. */
  learn(response: StunMessage): boolean {
    const code = readErrorCode(response, AttributeType.ErrorCode)?.code;
    if (!((code === 401 && this.nonce === undefined) || code === 438)) return false;
    this.realm = readString(response, AttributeType.Realm, 763);
    this.nonce = readString(response, AttributeType.Nonce, 763);
    this.passwordAlgorithms = readBytes(response, AttributeType.PasswordAlgorithms);
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
