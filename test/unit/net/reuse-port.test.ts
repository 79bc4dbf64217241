// A reuse group is started only on a free port: a port someone holds, even with SO_REUSEPORT
// (as coturn binds), must fail rather than be shared with the other server.
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { PortInUseError, bindFirstUdpOfGroup, bindUdpSocket, listenFirstTcpOfGroup } from '../../../src/net/reuse-port.js';

const HOST = '127.0.0.1';
const opened: Array<dgram.Socket | net.Server> = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

const udp = (reusePort: boolean) => {
  const s = dgram.createSocket({ type: 'udp4', reusePort });
  opened.push(s);
  return s;
};
const tcp = () => {
  const s = net.createServer();
  opened.push(s);
  return s;
};

describe('bindFirstUdpOfGroup', () => {
  it('refuses a port another socket holds, with SO_REUSEPORT (as coturn) or without', async () => {
    for (const reusePort of [true, false]) {
      const holder = udp(reusePort);
      const port = await bindUdpSocket(holder, HOST, 0);
      const attempt = bindFirstUdpOfGroup(udp(true), HOST, port);
      await expect(attempt).rejects.toThrow(PortInUseError);
      await expect(attempt).rejects.toThrow(`UDP 127.0.0.1:${port} is already in use by another socket (EADDRINUSE)`);
    }
  });

  it('takes a free port (0: one the OS picks) that later members of the group share', async () => {
    const port = await bindFirstUdpOfGroup(udp(true), HOST, 0);
    expect(port).toBeGreaterThan(0);
    expect(await bindUdpSocket(udp(true), HOST, port)).toBe(port);
    await expect(bindUdpSocket(udp(false), HOST, port)).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('listenFirstTcpOfGroup', () => {
  it('refuses a port a SO_REUSEPORT listener holds, and takes a free one that members share', async () => {
    const holder = tcp();
    holder.listen({ host: HOST, port: 0, reusePort: true });
    await once(holder, 'listening');
    const busy = (holder.address() as net.AddressInfo).port;
    await expect(listenFirstTcpOfGroup(tcp(), HOST, busy)).rejects.toThrow(`TCP 127.0.0.1:${busy} is already in use`);

    const port = await listenFirstTcpOfGroup(tcp(), HOST, 0);
    const member = tcp();
    member.listen({ host: HOST, port, reusePort: true });
    await once(member, 'listening');
    expect((member.address() as net.AddressInfo).port).toBe(port);
  });
});
