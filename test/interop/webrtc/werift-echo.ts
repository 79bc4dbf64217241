// werift (pure TypeScript WebRTC): two relay-only peer connections in this process, a data
// channel from a to b, b echoing. Reports what werift actually used, because it falls back
// from TURN/UDP to TURN/TCP without saying so.
import { RTCPeerConnection, type RTCDataChannel } from 'werift';
import type { TlsConnectionOptions } from 'werift';

export interface WeriftTurn {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly tlsOptions?: TlsConnectionOptions;
}

export interface WeriftSide {
  readonly localType: string | undefined;
  readonly remoteType: string | undefined;
  /** How this side reached the TURN server: the transport of its TURN client. */
  readonly turnTransport: string | undefined;
  readonly local: { address: string; port: number } | undefined;
  readonly remote: { address: string; port: number } | undefined;
}

export interface WeriftEchoResult {
  readonly echoed: number;
  readonly inOrder: boolean;
  readonly sides: { a: WeriftSide; b: WeriftSide };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`werift: timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function sideOf(pc: RTCPeerConnection): WeriftSide {
  const pair = pc.iceTransports[0]?.connection.nominated;
  const protocol = pair?.protocol as { turn?: { transport?: { type?: string } } } | undefined;
  const local = pair?.localCandidate;
  const remote = pair?.remoteCandidate;
  return {
    localType: local?.type,
    remoteType: remote?.type,
    turnTransport: protocol?.turn?.transport?.type,
    local: local && { address: local.host, port: local.port },
    remote: remote && { address: remote.host, port: remote.port },
  };
}

export async function weriftEcho(turn: WeriftTurn, messages: number, timeoutMs: number): Promise<WeriftEchoResult> {
  const config = {
    iceServers: [{ urls: turn.url, username: turn.username, credential: turn.password }],
    iceTransportPolicy: 'relay' as const,
    iceUseIpv6: false,
    turnTlsOptions: turn.tlsOptions,
  };
  const a = new RTCPeerConnection(config);
  const b = new RTCPeerConnection(config);
  try {
    b.onDataChannel.subscribe((channel: RTCDataChannel) => {
      channel.onMessage.subscribe((data) => channel.send(data));
    });
    const channel = a.createDataChannel('echo');
    const opened = new Promise<void>((resolve) => channel.stateChanged.subscribe((s) => s === 'open' && resolve()));
    const echoed: string[] = [];
    const allBack = new Promise<void>((resolve) => {
      channel.onMessage.subscribe((data) => {
        echoed.push(data.toString());
        if (echoed.length === messages) resolve();
      });
    });
    // Whole descriptions, candidates included: werift gathers inside setLocalDescription.
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);
    await within(opened, timeoutMs, 'the data channel to open');
    const expected = Array.from({ length: messages }, (_, i) => `message ${i} ${'x'.repeat(i % 50)}`);
    for (const text of expected) channel.send(text);
    await within(allBack, timeoutMs, 'every echo');
    return {
      echoed: echoed.length,
      inOrder: echoed.every((text, i) => text === expected[i]),
      sides: { a: sideOf(a), b: sideOf(b) },
    };
  } finally {
    await Promise.allSettled([a.close(), b.close()]);
  }
}
