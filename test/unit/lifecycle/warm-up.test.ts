// The start-up warm-up runs a call's setup over loopback through a relay node of its own:
// every request of it must reach its success path (else V8 optimises the error paths
// instead), and the server's own state, ports and sockets must be as if it had not run.
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { WARM_UP_CLIENTS, warmUpDtls, warmUpRequestPath } from '../../../src/lifecycle/warm-up.js';
import { AttributeType, Method, StunClass, type MessageBuilder } from '../../../src/stun/index.js';
import { closeEngineHarnesses, engineHarness } from '../../support/engine-harness.js';
import { issueCertificate, makeCertificate, type TestCertificate } from '../../support/certs.js';
import { testServerOptions } from '../../support/server-options.js';

afterEach(closeEngineHarnesses);

const allocateAttrs = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17);

describe('start-up warm-up', () => {
  it('answers every request of each synthetic call with success (Allocate, CreatePermission, ChannelBind, Refresh, Binding)', async () => {
    expect(await warmUpRequestPath(await testServerOptions(), 3)).toBe(15);
  });

  it('answers every request of all its clients, from several source addresses within the reply budget', async () => {
    expect(await warmUpRequestPath(await testServerOptions())).toBe(5 * WARM_UP_CLIENTS);
  });

  it('the same under options that would refuse them (every peer denied, quotas of one)', async () => {
    const options = await testServerOptions({ deniedPeerIps: ['0.0.0.0-255.255.255.255'], userQuota: 1, totalQuota: 1 });
    expect(await warmUpRequestPath(options, 3)).toBe(15);
  });

  it('warms every client up under no-stun, which leaves a Binding unanswered: the rest of each call succeeds', async () => {
    expect(await warmUpRequestPath(await testServerOptions({ noStun: true }), 3)).toBe(12);
  });

  it('runs through options under which some requests go unanswered or refused (no-stun, no-udp-relay)', async () => {
    const options = await testServerOptions({ noStun: true, noUdpRelay: true });
    expect(await warmUpRequestPath(options, 2)).toBe(0);
  });

  it("takes none of the server's own ports: its listening port and every relay port held by others, it still serves its calls", async () => {
    const options = await testServerOptions({ listeningPort: 0 });
    const held: Socket[] = [];
    try {
      for (let port = options.minPort; port <= options.maxPort; port++) held.push(await bindExclusive(port));
      const listening = await bindExclusive(0);
      held.push(listening);
      const withPort = { ...options, listeningPort: listening.address().port };
      expect(await warmUpRequestPath(withPort, 3)).toBe(15);
    } finally {
      held.forEach((socket) => socket.close());
    }
  });

  it('closes every socket it opened', async () => {
    const udpHandles = () => process.getActiveResourcesInfo().filter((kind) => kind === 'UDPWRAP').length;
    const before = udpHandles();
    await warmUpRequestPath(await testServerOptions(), 3);
    // Closing a dgram socket ends its handle on the next turn of the loop.
    await new Promise((resolve) => setImmediate(resolve));
    expect(udpHandles()).toBe(before);
  });

  it("leaves the server's allocation numbering as it found it", async () => {
    const t = await engineHarness();
    expect((await t.request(Method.Allocate, allocateAttrs)).cls).toBe(StunClass.SuccessResponse);
    const first = t.session.allocation!.id;
    await warmUpRequestPath(t.options, 5);
    const other = t.client('127.0.0.2');
    expect((await other.request(Method.Allocate, allocateAttrs)).cls).toBe(StunClass.SuccessResponse);
    expect(other.session.allocation!.id).toBe(first + 1);
  });
});

describe('start-up warm-up of DTLS', () => {
  const certificates: TestCertificate[] = [];
  afterEach(() => certificates.splice(0).forEach((c) => c.remove()));
  const withCertificate = async (certificate: TestCertificate, caFile?: string) => {
    certificates.push(certificate);
    const options = await testServerOptions();
    return { ...options, tls: { ...options.tls, cert: certificate.cert, pkey: certificate.key, caFile } };
  };

  it("completes every handshake with the server's P-256 certificate, Finished and all", async () => {
    expect(await warmUpDtls(await withCertificate(makeCertificate()), 4)).toBe(4);
  });

  it('and with an RSA certificate', async () => {
    const ca = makeCertificate('warm-up CA');
    certificates.push(ca);
    expect(await warmUpDtls(await withCertificate(issueCertificate(ca, 'localhost', { rsa: true })), 3)).toBe(3);
  });

  it("when CA-file makes the server ask clients for certificates: the warm-up's own listener does not", async () => {
    const ca = makeCertificate('client CA');
    certificates.push(ca);
    expect(await warmUpDtls(await withCertificate(makeCertificate(), ca.cert), 3)).toBe(3);
  });

  it('closes every socket it opened', async () => {
    const udpHandles = () => process.getActiveResourcesInfo().filter((kind) => kind === 'UDPWRAP').length;
    const options = await withCertificate(makeCertificate());
    const before = udpHandles();
    await warmUpDtls(options, 3);
    await new Promise((resolve) => setImmediate(resolve));
    expect(udpHandles()).toBe(before);
  });
});

function bindExclusive(port: number): Promise<Socket> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: '127.0.0.1', port, exclusive: true }, () => resolve(socket));
  });
}
