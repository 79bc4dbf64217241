// A real DTLS 1.2 client for tests: OpenSSL's s_client, one STUN message per stdin write
// (one record each), answers cut from its stdout by STUN length. Ending stdin makes it send
// close_notify; kill() makes it vanish without a word.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import {
  AttributeType,
  MessageBuilder,
  StunClass,
  decodeMessage,
  longTermKey,
  readErrorCode,
  readString,
  type StunMessage,
} from '../../../src/stun/index.js';

export interface DtlsClientOptions {
  readonly cipher?: string;
  readonly credentials?: { readonly username: string; readonly password: string };
  /** A client certificate to present, for a server with CA-file. */
  readonly certificate?: { readonly cert: string; readonly key: string };
}

export class OpensslDtlsClient {
  private pending = Buffer.alloc(0);
  private readonly messages: StunMessage[] = [];
  private wake: (() => void) | undefined;
  private stderr = '';
  realm: string | undefined;
  nonce: string | undefined;
  readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly options: DtlsClientOptions,
  ) {
    child.stdout.on('data', (d: Buffer) => this.cut(d));
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(host: string, port: number, options: DtlsClientOptions = {}): OpensslDtlsClient {
    const args = ['s_client', '-dtls1_2', '-connect', `${host}:${port}`, '-quiet', '-no_ign_eof'];
    if (options.cipher) args.push('-cipher', options.cipher);
    if (options.certificate) args.push('-cert', options.certificate.cert, '-key', options.certificate.key);
    return new OpensslDtlsClient(spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] }), options);
  }

  get pid(): number {
    return this.child.pid!;
  }

  private cut(data: Buffer): void {
    this.pending = Buffer.concat([this.pending, data]);
    while (this.pending.length >= 20 && this.pending.length >= 20 + this.pending.readUInt16BE(2)) {
      const span = 20 + this.pending.readUInt16BE(2);
      this.messages.push(decodeMessage(Buffer.from(this.pending.subarray(0, span))));
      this.pending = this.pending.subarray(span);
    }
    this.wake?.();
  }

  /** The next STUN message from the server (s_client writes stdin only after its handshake). */
  async next(timeoutMs = 5000): Promise<StunMessage> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no answer over DTLS; s_client said:\n${this.stderr}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 100));
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
    return this.messages.shift()!;
  }

  /** A request, signed once the realm and nonce are known, answering one 401/438 first. */
  async request(method: number, add: (b: MessageBuilder) => void = () => {}): Promise<StunMessage> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const builder = new MessageBuilder(method, StunClass.Request);
      add(builder);
      const credentials = this.options.credentials;
      if (credentials && this.realm !== undefined && this.nonce !== undefined) {
        builder.addString(AttributeType.Username, credentials.username).addString(AttributeType.Realm, this.realm).addString(AttributeType.Nonce, this.nonce);
        this.child.stdin.write(builder.build({ integrityKey: longTermKey(credentials.username, this.realm, credentials.password) }));
      } else this.child.stdin.write(builder.build());
      const response = await this.next();
      const code = readErrorCode(response, AttributeType.ErrorCode)?.code;
      if (credentials && ((code === 401 && this.nonce === undefined) || code === 438)) {
        this.realm = readString(response, AttributeType.Realm, 763);
        this.nonce = readString(response, AttributeType.Nonce, 763);
        continue;
      }
      return response;
    }
    throw new Error('challenge loop did not settle');
  }

  /** Ends stdin: s_client says close_notify and exits. */
  async end(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
  }

  /** Kills s_client: the server hears nothing more from this 5-tuple. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
