// The relay's UDP sockets answer IP literals without the DNS; a name must still resolve.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createUdpSocket } from '../../../src/net/udp-socket.js';

const sockets: dgram.Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

async function sink(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

describe('createUdpSocket', () => {
  it('sends to an IP literal and to a host name', async () => {
    const target = await sink();
    const socket = createUdpSocket(4);
    sockets.push(socket);
    const arrived: string[] = [];
    target.on('message', (data) => arrived.push(data.toString()));
    socket.send('by address', target.address().port, '127.0.0.1');
    socket.send('by name', target.address().port, 'localhost');
    for (let i = 0; i < 50 && arrived.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(arrived.sort()).toEqual(['by address', 'by name']);
  });
});
