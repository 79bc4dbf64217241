// libdatachannel (C++, with libjuice for ICE) through node-datachannel: two relay-only peer
// connections, a data channel from a to b, b echoing. libjuice speaks TURN over UDP only.
import { performance } from 'node:perf_hooks';
import nodeDataChannel, { type DataChannel, type PeerConnection, type SelectedCandidateInfo } from 'node-datachannel';

export interface DataChannelTurn {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** Where the clients' own sockets are bound: not the server's address, so that no path but the relay exists. */
  readonly bindAddress: string;
}

export interface DataChannelEchoResult {
  readonly echoed: number;
  readonly inOrder: boolean;
  readonly pairs: { a: SelectedPair | undefined; b: SelectedPair | undefined };
  /** Wall-clock milliseconds (sub-millisecond) of each side's first relay candidate and of the channel opening. */
  readonly times: { firstRelayAt: { a?: number; b?: number }; openedAt: number };
}
type SelectedPair = { local: SelectedCandidateInfo; remote: SelectedCandidateInfo };

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`node-datachannel: timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One call. `beforeClose` gets the result before the peer connections are closed: closing can
 * deadlock inside libdatachannel (datachannel-process.ts), and a result told first is not lost.
 */
export async function dataChannelEcho(
  turn: DataChannelTurn,
  messages: number,
  timeoutMs: number,
  beforeClose?: (result: DataChannelEchoResult) => void,
): Promise<DataChannelEchoResult> {
  const config = {
    iceServers: [{ hostname: turn.host, port: turn.port, username: turn.username, password: turn.password, relayType: 'TurnUdp' as const }],
    iceTransportPolicy: 'relay' as const,
    bindAddress: turn.bindAddress,
  };
  const a = new nodeDataChannel.PeerConnection('a', config);
  const b = new nodeDataChannel.PeerConnection('b', config);
  const firstRelayAt: { a?: number; b?: number } = {};
  const signal = (from: PeerConnection, to: PeerConnection, side: 'a' | 'b') => {
    from.onLocalDescription((sdp, type) => to.setRemoteDescription(sdp, type));
    from.onLocalCandidate((candidate, mid) => {
      if (candidate.includes(' typ relay')) firstRelayAt[side] ??= wallClock();
      to.addRemoteCandidate(candidate, mid);
    });
  };
  signal(a, b, 'a');
  signal(b, a, 'b');
  const answerer: DataChannel[] = [];
  b.onDataChannel((channel) => {
    answerer.push(channel);
    channel.onMessage((m) => void channel.sendMessage(String(m)));
  });
  const channel = a.createDataChannel('echo');
  try {
    const opened = new Promise<number>((resolve) => channel.onOpen(() => resolve(wallClock())));
    const echoed: string[] = [];
    const allBack = new Promise<void>((resolve) => {
      channel.onMessage((m) => {
        echoed.push(String(m));
        if (echoed.length === messages) resolve();
      });
    });
    const openedAt = await within(opened, timeoutMs, 'the data channel to open');
    const expected = Array.from({ length: messages }, (_, i) => `message ${i} ${'x'.repeat(i % 50)}`);
    for (const text of expected) channel.sendMessage(text);
    await within(allBack, timeoutMs, 'every echo');
    const result: DataChannelEchoResult = {
      echoed: echoed.length,
      inOrder: echoed.every((text, i) => text === expected[i]),
      pairs: { a: a.getSelectedCandidatePair() ?? undefined, b: b.getSelectedCandidatePair() ?? undefined },
      times: { firstRelayAt, openedAt },
    };
    beforeClose?.(result);
    return result;
  } finally {
    await closeAll([channel, ...answerer], [a, b]);
  }
}

const wallClock = (): number => performance.timeOrigin + performance.now();

/**
 * Closes and waits until libdatachannel says each is closed: its callbacks run on its own
 * threads, and cleanup() while any is still closing can crash the process.
 */
async function closeAll(channels: DataChannel[], pcs: PeerConnection[]): Promise<void> {
  const closed = [
    ...channels.map((c) => new Promise<void>((resolve) => (c.isOpen() ? c.onClosed(resolve) : resolve()))),
    ...pcs.map((pc) => new Promise<void>((resolve) => (pc.state() === 'closed' ? resolve() : pc.onStateChange((s) => s === 'closed' && resolve())))),
  ];
  for (const c of channels) c.close();
  for (const pc of pcs) pc.close();
  await within(Promise.all(closed), 5000, 'everything to close');
}

/** Ends libdatachannel's threads, once, when the file's tests are done. */
export const cleanupDataChannel = (): void => nodeDataChannel.cleanup();
