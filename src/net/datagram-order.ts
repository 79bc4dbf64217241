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

  /** `onWaiting` hears when datagrams start and stop waiting (native I/O relays none in C meanwhile). */
  constructor(private readonly onWaiting?: (waiting: boolean) => void) {}

  get hasWaiting(): boolean {
    return this.waiting > 0;
  }

  /** Whether the datagram at hand must wait for what came before it from this client. */
  mustWait(): boolean {
    return this.waiting > 0 || (this.inFlight > 0 && (nativeUdpIo()?.handingOverBatch ?? false));
  }

  /** Handles it after what is in flight and waiting now (immediates run in order). */
  later(handle: () => void): void {
    if (this.waiting++ === 0) this.onWaiting?.(true);
    setImmediate(() => {
      if (--this.waiting === 0) this.onWaiting?.(false);
      handle();
    });
  }

  /** A request's answer still to come (handlePacket's promise), if any. */
  track(answered: Promise<void> | undefined): void {
    if (!answered) return;
    this.inFlight++;
    void answered.finally(() => this.inFlight--);
  }
}
