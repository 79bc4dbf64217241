// A TCP forwarder in front of a TLS server that counts the TLS records the server sends, so a
// test can see how its answers were cut into records (what one SSL_read returns to a client).
import net from 'node:net';
import type { TransportAddress } from '../../src/stun/index.js';
import type { Cleanups } from './cleanups.js';

/** TLS record content type 23. Under TLS 1.2 only application data is sent as it. */
const APPLICATION_DATA = 23;
const RECORD_HEADER = 5;

/** Where to connect instead of the server, and what it has counted. */
export interface RecordTap extends TransportAddress {
  /** Application-data records that came from the server, over all connections. */
  readonly applicationRecords: number;
}

export async function tapTlsRecords(cleanups: Cleanups, server: TransportAddress): Promise<RecordTap> {
  let applicationRecords = 0;
  const forwarder = net.createServer((client) => {
    const upstream = net.connect({ host: server.address, port: server.port });
    let pending = Buffer.alloc(0);
    upstream.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= RECORD_HEADER && pending.length >= RECORD_HEADER + pending.readUInt16BE(3)) {
        if (pending[0] === APPLICATION_DATA) applicationRecords++;
        pending = pending.subarray(RECORD_HEADER + pending.readUInt16BE(3));
      }
      client.write(data);
    });
    client.pipe(upstream);
    for (const socket of [client, upstream]) socket.on('error', () => {});
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => forwarder.listen(0, server.address, resolve));
  cleanups.push(() => new Promise((resolve) => forwarder.close(resolve)));
  const { port } = forwarder.address() as net.AddressInfo;
  return {
    ...server,
    port,
    get applicationRecords() {
      return applicationRecords;
    },
  };
}
