/**
 * The server side of one DTLS 1.2 handshake, from a ClientHello that carried a valid cookie
 * to the server's Finished (RFC 6347 §4.2.4, flights 4 and 6). Only ECDHE with AES-GCM; client
 * certificates when CA-file is set (then required); no resumption, no renegotiation.
 */
import { createHash, timingSafeEqual, type Hash, type KeyObject } from 'node:crypto';
import type { ClientCertificateAuthority } from './client-certificates.js';
import type { DtlsCredentials } from './credentials.js';
import { chooseGroup, generateKeyShare, type KeyShare } from './ecdhe.js';
import {
  Extension,
  HANDSHAKE_HEADER,
  HandshakeType,
  certificateBody,
  certificateRequestBody,
  clientPublicKey,
  ecdheParams,
  handshakeFragment,
  handshakeMessage,
  parseCertificateList,
  parseHandshakeFragments,
  parseSignature,
  readU16List,
  serverHelloBody,
  serverKeyExchangeBody,
  type ClientHello,
} from './handshake-codec.js';
import { RecordProtection } from './protection.js';
import { AlertDescription, ContentType, DtlsAlert, MAX_RECORD_SEQUENCE, RECORD_HEADER, plainRecord, type DtlsRecord } from './record.js';
import { serverRandom } from './server-random.js';
import { chooseSuite, keyBlock, prf, type CipherSuite } from './suites.js';

/** Datagrams the server writes stay under this (IPv6's minimum MTU less headers). */
const DATAGRAM_BUDGET = 1200;
const MAX_FRAGMENT = DATAGRAM_BUDGET - RECORD_HEADER - HANDSHAKE_HEADER;
/** A client's handshake message beyond this is refused; its Certificate may take more. */
const MAX_MESSAGE = 4096;
const MAX_CERTIFICATE_MESSAGE = 16384;

export interface Established {
  readonly suite: CipherSuite;
  readonly protection: RecordProtection;
  /** Epoch-1 sequence numbers the server has used (its Finished took 0). */
  readonly nextWriteSequence: number;
  /** CCS and Finished: sent again if the client repeats its last flight. */
  readonly finalFlight: Buffer;
  /** The client Finished's record sequence number, for the replay window. */
  readonly clientFinishedSequence: number;
}

/** What the handshake waits for next; 'certificate' and 'certificate-verify' only with CA-file. */
type State = 'certificate' | 'key-exchange' | 'certificate-verify' | 'change-cipher-spec' | 'finished';

/** The client's handshake message each state waits for, before its ChangeCipherSpec. */
const AWAITED: Partial<Record<State, number>> = {
  certificate: HandshakeType.Certificate,
  'key-exchange': HandshakeType.ClientKeyExchange,
  'certificate-verify': HandshakeType.CertificateVerify,
};

/**
 * Client authentication in progress: the CA, the client's key once its chain checks, and the
 * handshake messages so far, which its CertificateVerify signs (with a hash of its choosing).
 */
interface ClientAuthentication {
  readonly authority: ClientCertificateAuthority;
  key?: KeyObject;
  readonly messages: Buffer[];
}

export class ServerHandshake {
  private readonly suite: CipherSuite;
  private readonly transcript: Hash;
  private clientAuth: ClientAuthentication | undefined;
  private readonly share: KeyShare;
  private readonly serverRandom = serverRandom();
  private writeSequence: number;
  private state: State;
  /** The client's next message_seq, and its bytes so far (in-order fragments only). */
  private expectedSeq: number;
  private partial: { type: number; body: Buffer; filled: number } | undefined;
  private masterSecret: Buffer | undefined;
  private protection: RecordProtection | undefined;
  /** The server's Finished: the message after flight 4's. */
  private readonly finishedSeq: number;
  /** Flight 4, as datagrams. */
  readonly flight: Buffer[];

  /** Throws DtlsAlert when the client offers nothing this certificate can serve. */
  constructor(
    credentials: DtlsCredentials,
    readonly hello: ClientHello,
    helloBody: Buffer,
    helloMessageSeq: number,
    helloRecordSequence: number,
  ) {
    const suite = chooseSuite(hello.cipherSuites, credentials.kind);
    const group = chooseGroup(readU16List(hello.extensions.get(Extension.SupportedGroups)));
    const scheme = credentials.chooseScheme(readU16List(hello.extensions.get(Extension.SignatureAlgorithms)));
    if (!suite || group === undefined || scheme === undefined) {
      throw new DtlsAlert(AlertDescription.HandshakeFailure, 'no cipher suite, group or signature scheme in common');
    }
    if (!hello.compressionMethods.includes(0)) throw new DtlsAlert(AlertDescription.IllegalParameter, 'no null compression');
    this.suite = suite;
    this.share = generateKeyShare(group);
    // The server's epoch-0 numbers start where the client's ClientHello is (as OpenSSL's and
    // mbed TLS's servers do): the stateless HelloVerifyRequest took the earlier ClientHello's
    // number (RFC 6347 §4.2.1), so the client never sees one number twice.
    this.writeSequence = helloRecordSequence;
    this.expectedSeq = helloMessageSeq + 1;
    const authority = credentials.clientAuthority;
    this.clientAuth = authority && { authority, messages: [] };
    this.state = authority ? 'certificate' : 'key-exchange';
    this.transcript = createHash(suite.hash);
    this.hashMessage(handshakeMessage(HandshakeType.ClientHello, helloMessageSeq, helloBody));
    const params = ecdheParams(group, this.share.publicKey);
    const signature = credentials.sign(scheme, Buffer.concat([hello.random, this.serverRandom, params]));
    const messages: [number, Buffer][] = [
      [HandshakeType.ServerHello, serverHelloBody(this.serverRandom, suite.id, hello)],
      [HandshakeType.Certificate, certificateBody(credentials.chain)],
      [HandshakeType.ServerKeyExchange, serverKeyExchangeBody(params, scheme, signature)],
    ];
    if (authority) messages.push([HandshakeType.CertificateRequest, certificateRequestBody(authority.certificateTypes, authority.schemes)]);
    messages.push([HandshakeType.ServerHelloDone, Buffer.alloc(0)]);
    // The HelloVerifyRequest was message 0 of the server's side.
    this.flight = this.packFlight(messages, 1);
    this.finishedSeq = 1 + messages.length;
  }

  /** Takes one epoch-0 or epoch-1 record; returns the result once the client's Finished checks. */
  onRecord(record: DtlsRecord): Established | undefined {
    if (record.epoch === 0 && record.type === ContentType.Handshake && AWAITED[this.state] !== undefined) {
      const fragments = parseHandshakeFragments(record.fragment);
      if (!fragments) throw new DtlsAlert(AlertDescription.DecodeError, 'malformed handshake record');
      for (const f of fragments) {
        const body = this.assemble(f);
        if (body) this.onClientMessage(f.type, body);
      }
      return undefined;
    }
    if (record.epoch === 0 && record.type === ContentType.ChangeCipherSpec && this.state === 'change-cipher-spec') {
      if (record.fragment.length !== 1 || record.fragment[0] !== 1) throw new DtlsAlert(AlertDescription.DecodeError, 'bad ChangeCipherSpec');
      this.state = 'finished';
      return undefined;
    }
    if (record.epoch === 1 && record.type === ContentType.Handshake && this.state === 'finished') {
      const plain = this.protection!.open(record);
      if (!plain) return undefined; // forged or damaged: dropped, as RFC 6347 §4.1.2.7 allows
      const fragments = parseHandshakeFragments(plain);
      if (!fragments) throw new DtlsAlert(AlertDescription.DecodeError, 'malformed Finished');
      for (const f of fragments) {
        const body = this.assemble(f);
        if (body) return this.onFinished(f.type, body, record.sequence);
      }
    }
    return undefined; // out of order or repeated: the client retransmits its flight if it must
  }

  /** Collects in-order fragments of the expected message; its body once complete. */
  private assemble(f: { type: number; length: number; messageSeq: number; offset: number; body: Buffer }): Buffer | undefined {
    if (f.messageSeq !== this.expectedSeq) return undefined;
    if (f.length > (f.type === HandshakeType.Certificate ? MAX_CERTIFICATE_MESSAGE : MAX_MESSAGE)) {
      throw new DtlsAlert(AlertDescription.HandshakeFailure, 'handshake message too long');
    }
    if (f.offset === 0 && f.body.length === f.length) return f.body;
    this.partial ??= { type: f.type, body: Buffer.alloc(f.length), filled: 0 };
    const p = this.partial;
    if (p.type !== f.type || p.body.length !== f.length || f.offset > p.filled) return undefined;
    f.body.copy(p.body, f.offset);
    p.filled = Math.max(p.filled, f.offset + f.body.length);
    if (p.filled < p.body.length) return undefined;
    this.partial = undefined;
    return p.body;
  }

  /** The client's flight 5 before its ChangeCipherSpec: [Certificate,] ClientKeyExchange[, CertificateVerify]. */
  private onClientMessage(type: number, body: Buffer): void {
    const awaited = AWAITED[this.state];
    if (type !== awaited) throw new DtlsAlert(AlertDescription.UnexpectedMessage, `expected handshake message ${awaited}, got ${type}`);
    if (this.state === 'certificate') this.onClientCertificate(body);
    else if (this.state === 'key-exchange') this.onClientKeyExchange(body);
    else this.onCertificateVerify(body);
  }

  private onClientCertificate(body: Buffer): void {
    const chain = parseCertificateList(body);
    if (!chain) throw new DtlsAlert(AlertDescription.DecodeError, 'malformed Certificate');
    this.clientAuth!.key = this.clientAuth!.authority.verifyChain(chain, new Date());
    this.hashClientMessage(HandshakeType.Certificate, body);
    this.state = 'key-exchange';
  }

  private onClientKeyExchange(body: Buffer): void {
    const peer = clientPublicKey(body);
    let premaster: Buffer;
    try {
      if (!peer) throw new Error('no key share');
      premaster = this.share.computeSecret(peer);
    } catch (error) {
      throw new DtlsAlert(AlertDescription.IllegalParameter, `bad ClientKeyExchange: ${(error as Error).message}`);
    }
    this.hashClientMessage(HandshakeType.ClientKeyExchange, body);
    const { hash } = this.suite;
    // RFC 7627: with extended_master_secret the secret is bound to the whole handshake so far.
    this.masterSecret = this.hello.extensions.has(Extension.ExtendedMasterSecret)
      ? prf(hash, premaster, 'extended master secret', this.transcript.copy().digest(), 48)
      : prf(hash, premaster, 'master secret', Buffer.concat([this.hello.random, this.serverRandom]), 48);
    this.protection = new RecordProtection(this.suite, keyBlock(this.suite, this.masterSecret, this.hello.random, this.serverRandom));
    this.state = this.clientAuth ? 'certificate-verify' : 'change-cipher-spec';
  }

  /** The client proves it holds its certificate's key: it signed the handshake up to here. */
  private onCertificateVerify(body: Buffer): void {
    const { authority, key, messages } = this.clientAuth!;
    const signed = parseSignature(body);
    if (!signed) throw new DtlsAlert(AlertDescription.DecodeError, 'malformed CertificateVerify');
    authority.verifySignature(key!, signed.scheme, signed.signature, Buffer.concat(messages));
    this.clientAuth = undefined; // verified: its copy of the messages is no longer needed
    this.hashClientMessage(HandshakeType.CertificateVerify, body);
    this.state = 'change-cipher-spec';
  }

  /** The client's next message (message_seq expectedSeq) joins the transcript. */
  private hashClientMessage(type: number, body: Buffer): void {
    this.hashMessage(handshakeMessage(type, this.expectedSeq++, body));
  }

  private hashMessage(message: Buffer): void {
    this.transcript.update(message);
    this.clientAuth?.messages.push(message);
  }

  private onFinished(type: number, body: Buffer, recordSequence: number): Established {
    if (type !== HandshakeType.Finished) throw new DtlsAlert(AlertDescription.UnexpectedMessage, `expected Finished, got ${type}`);
    const { hash } = this.suite;
    const expected = prf(hash, this.masterSecret!, 'client finished', this.transcript.copy().digest(), 12);
    if (body.length !== 12 || !timingSafeEqual(body, expected)) throw new DtlsAlert(AlertDescription.DecryptError, 'client Finished does not verify');
    this.hashClientMessage(type, body);
    const verify = prf(hash, this.masterSecret!, 'server finished', this.transcript.digest(), 12);
    const finished = this.protection!.seal(ContentType.Handshake, 1, 0, [handshakeMessage(HandshakeType.Finished, this.finishedSeq, verify)]);
    const ccs = plainRecord(ContentType.ChangeCipherSpec, 0, this.nextRecordSequence(), Buffer.from([1]));
    return {
      suite: this.suite,
      protection: this.protection!,
      nextWriteSequence: 1,
      finalFlight: Buffer.concat([ccs, finished]),
      clientFinishedSequence: recordSequence,
    };
  }

  /**
   * An alert in epoch 0, numbered after the server's flight: a number the client has already
   * seen would be a replay to it, dropped unread.
   */
  alertRecord(body: Buffer): Buffer {
    return plainRecord(ContentType.Alert, 0, Math.min(this.writeSequence++, MAX_RECORD_SEQUENCE), body);
  }

  /** A client that starts near 2^48 leaves no numbers for the server's records: refused. */
  private nextRecordSequence(): number {
    if (this.writeSequence > MAX_RECORD_SEQUENCE) throw new DtlsAlert(AlertDescription.HandshakeFailure, 'epoch-0 record numbers exhausted');
    return this.writeSequence++;
  }

  /** Fragments messages into records and packs records into datagrams within the budget. */
  private packFlight(messages: readonly [number, Buffer][], firstSeq: number): Buffer[] {
    const datagrams: Buffer[] = [];
    let current: Buffer[] = [];
    let size = 0;
    messages.forEach(([type, body], i) => {
      const seq = firstSeq + i;
      this.hashMessage(handshakeMessage(type, seq, body));
      for (let offset = 0; offset === 0 || offset < body.length; offset += MAX_FRAGMENT) {
        const length = Math.min(MAX_FRAGMENT, body.length - offset);
        const record = plainRecord(ContentType.Handshake, 0, this.nextRecordSequence(), handshakeFragment(type, seq, body, offset, length));
        if (size + record.length > DATAGRAM_BUDGET && current.length > 0) {
          datagrams.push(Buffer.concat(current));
          current = [];
          size = 0;
        }
        current.push(record);
        size += record.length;
      }
    });
    if (current.length > 0) datagrams.push(Buffer.concat(current));
    return datagrams;
  }
}
