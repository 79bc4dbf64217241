// A minimal DTLS 1.2 client for session tests: one ECDHE-ECDSA-AES128-GCM-SHA256 handshake
// over a raw socket, then records of any kind (alerts, replays) that OpenSSL will not send
// on request. Interop is proven with OpenSSL and coturn elsewhere; this is for the edges.
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { HandshakeType, handshakeMessage, parseHandshakeFragments } from '../../../src/net/dtls/handshake-codec.js';
import { RecordProtection } from '../../../src/net/dtls/protection.js';
import { ContentType, parseRecords, plainRecord, type DtlsRecord } from '../../../src/net/dtls/record.js';
import { clientHelloDatagram, helloVerifyCookie } from './client-hello.js';
import { clientFinalMessages } from './client-keys.js';

export class MiniDtlsClient {
  private readonly inbox: DtlsRecord[] = [];
  private wake: (() => void) | undefined;
  private protection: RecordProtection | undefined;
  /** The next record numbers: epoch 0 (plaintext), epoch 1 (sealed). */
  private plainSequence = 0;
  private sequence = 0;
  /** ClientKeyExchange and Finished as sent, to repeat the final flight. */
  private finalMessages: { exchange: Buffer; finished: Buffer } | undefined;
  /** The datagram that carried the ClientHello with the cookie, to repeat it. */
  helloWithCookie: Buffer = Buffer.alloc(0);
  /** Datagrams from the server so far. */
  datagramsReceived = 0;

  private constructor(
    readonly socket: Socket,
    private readonly port: number,
  ) {
    socket.on('message', (d) => {
      this.datagramsReceived++;
      this.inbox.push(...(parseRecords(d) ?? []));
      this.wake?.();
    });
  }

  static async connect(port: number): Promise<MiniDtlsClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const client = new MiniDtlsClient(socket, port);
    await client.handshake();
    return client;
  }

  /** The next record from the server, of any kind. */
  async next(): Promise<DtlsRecord> {
    for (let i = 0; i < 100 && this.inbox.length === 0; i++) {
      await new Promise<void>((r) => ((this.wake = r), setTimeout(r, 50)));
    }
    const record = this.inbox.shift();
    if (!record) throw new Error('no record from the server');
    return record;
  }

  /** The cookie exchange, ending with the ClientHello that carries the cookie (flight 3). */
  private async sendHelloWithCookie(random: Buffer): Promise<void> {
    this.send(clientHelloDatagram({ random, suites: [0xc02b], recordSequence: this.plainSequence++ }));
    let cookie: Buffer | undefined;
    while (!cookie) {
      const record = await this.next();
      cookie = helloVerifyCookie(Buffer.concat([record.header, record.fragment]));
    }
    this.helloWithCookie = clientHelloDatagram({ random, cookie, messageSeq: 1, recordSequence: this.plainSequence++, suites: [0xc02b] });
    this.send(this.helloWithCookie);
  }

  /** Starts a new handshake from this socket, up to a valid-cookie ClientHello, and leaves it there. */
  startAnotherHandshake(): Promise<void> {
    return this.sendHelloWithCookie(randomBytes(32));
  }

  /** A whole new handshake from this socket; records are sealed with its keys from then on. */
  handshakeAgain(): Promise<void> {
    return this.handshake();
  }

  private async handshake(): Promise<void> {
    const random = randomBytes(32);
    await this.sendHelloWithCookie(random);
    const hello = parseHandshakeFragments(parseRecords(this.helloWithCookie)![0]!.fragment)![0]!;
    const transcript = createHash('sha256').update(handshakeMessage(HandshakeType.ClientHello, 1, hello.body));
    const messages = new Map<number, Buffer>();
    while (!messages.has(HandshakeType.ServerHelloDone)) {
      for (const f of parseHandshakeFragments((await this.next()).fragment) ?? []) {
        if (f.offset !== 0 || f.body.length !== f.length) throw new Error('fragmented server message');
        transcript.update(handshakeMessage(f.type, f.messageSeq, f.body));
        messages.set(f.type, f.body);
      }
    }
    const { exchange, finished, protection } = clientFinalMessages(transcript, random, messages);
    this.sequence = 0;
    this.protection = protection;
    this.finalMessages = { exchange, finished };
    this.sendFinalFlight();
    for (let record = await this.next(); record.epoch !== 1; record = await this.next());
  }

  /** ClientKeyExchange, ChangeCipherSpec and Finished, with fresh record numbers as a retransmission has. */
  sendFinalFlight(): void {
    const { exchange, finished } = this.finalMessages!;
    this.send(Buffer.concat([
      plainRecord(ContentType.Handshake, 0, this.plainSequence++, exchange),
      plainRecord(ContentType.ChangeCipherSpec, 0, this.plainSequence++, Buffer.from([1])),
      this.protection!.seal(ContentType.Handshake, 1, this.sequence++, [finished]),
    ]));
  }

  /** One record of this type, sealed with the next sequence number, not sent. */
  seal(type: number, data: Buffer): Buffer {
    return this.protection!.seal(type, 1, this.sequence++, [data]);
  }

  /** Seals and sends one record; returns it, for replaying. */
  sendRecord(type: number, data: Buffer): Buffer {
    const record = this.seal(type, data);
    this.send(record);
    return record;
  }

  /** The next application data from the server, decrypted. */
  async receive(): Promise<Buffer> {
    for (;;) {
      const record = await this.next();
      const plain = record.epoch === 1 && record.type === ContentType.ApplicationData ? this.protection!.open(record) : undefined;
      if (plain) return plain;
    }
  }

  send(datagram: Buffer): void {
    this.socket.send(datagram, this.port, '127.0.0.1');
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}
