/**
 * One client's datagrams handled in the order they came, as with dgram. Native I/O hands a
 * loop turn's datagrams over in one call, and no microtask runs between them: a request that
 * awaits anything (its credentials are looked up asynchronously) is still unanswered when the
 * datagram behind it is handled. A ChannelBind and the ChannelData a client sends right behind
 * it (libdatachannel does) then met an unbound channel, and the data, a DTLS packet, was
 * dropped; the call's data channel opened a second later, at DTLS's retransmission (issue 14).
 * So while a request of the client is being answered within a batch, what follows from it
 * is put off to setImmediate, one datagram per callback (Node runs microtasks after each),
 * and so is anything that comes while such datagrams wait, so that none overtakes another.
 */
import { nativeUdpIo } from './native-udp/addon.js';

export class DatagramOrder {
  private inFlight = 0;
  private waiting = 0;

  /**
   * `onBusy` hears when the client starts and stops having a request in flight or datagrams
   * waiting: meanwhile native I/O relays none of its datagrams in C (routed-channels.ts), so that
   * none overtakes what JS still holds.
   */
  constructor(private readonly onBusy?: (busy: boolean) => void) {}

  get busy(): boolean {
    return this.inFlight > 0 || this.waiting > 0;
  }

  /** Whether the datagram at hand must wait for what came before it from this client. */
  mustWait(): boolean {
    return this.waiting > 0 || (this.inFlight > 0 && (nativeUdpIo()?.handingOverBatch ?? false));
  }

  /** Handles it after what is in flight and waiting now (immediates run in order). */
  later(handle: () => void): void {
    this.change(() => this.waiting++);
    setImmediate(() => {
      this.change(() => this.waiting--);
      handle();
    });
  }

  /** A request's answer still to come (handlePacket's promise), if any. */
  track(answered: Promise<void> | undefined): void {
    if (!answered) return;
    this.change(() => this.inFlight++);
    void answered.finally(() => this.change(() => this.inFlight--));
  }

  private change(step: () => void): void {
    const before = this.busy;
    step();
    if (this.busy !== before) this.onBusy?.(!before);
  }
}
