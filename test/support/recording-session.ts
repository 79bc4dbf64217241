// The client side of a 5-tuple as the engine sees it, for engine tests without sockets:
// it records what the engine sends.
import type { TransportAddress } from '../../src/stun/index.js';
import type { Allocation } from '../../src/turn/allocation.js';
import type { ClientSession } from '../../src/turn/session.js';

export class RecordingSession implements ClientSession {
  readonly transport = 'udp' as const;
  readonly remote: TransportAddress;
  readonly local: TransportAddress = { family: 4, address: '127.0.0.1', port: 3478 };
  allocation: Allocation | undefined;
  allocating = false;

  constructor(port = 40000, address = '127.0.0.1') {
    this.remote = { family: 4, address, port };
  }
  readonly sent: Buffer[] = [];
  setAllocation(a: Allocation | undefined): void {
    this.allocation = a;
  }
  setAllocating(on: boolean): void {
    this.allocating = on;
  }
  send(data: Buffer): void {
    this.sent.push(data);
  }
  sendRelayed(data: Buffer): boolean {
    this.sent.push(data);
    return true;
  }
  sendChannelData(header: Buffer, payload: Buffer): boolean {
    this.sent.push(Buffer.concat([header, payload]));
    return true;
  }
}

