// The page the Chromium interop test (and bench/call-setup.ts, which reads its timestamps)
// loads: two RTCPeerConnections in one page, relay only, signalled in the page. Plain
// JavaScript in a string, so that nothing the test runner compiles is serialised into the
// browser.

const SCRIPT = String.raw`
// Wall-clock milliseconds, sub-millisecond: comparable with another process's timestamps.
const now = () => performance.timeOrigin + performance.now();

const wait = (promise, ms, what) => Promise.race([
  promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error('timed out waiting for ' + what)), ms)),
]);

function watch(pc, side, log, other) {
  log[side] = { candidates: [], errors: [] };
  pc.onicecandidate = (e) => {
    if (!e.candidate) return;
    const c = e.candidate;
    if (c.type === 'relay') log[side].firstRelayAt ??= now();
    log[side].candidates.push({ type: c.type, protocol: c.protocol, relayProtocol: c.relayProtocol, address: c.address, port: c.port });
    if (other) other.addIceCandidate(c).catch((err) => log[side].errors.push({ addIceCandidate: String(err) }));
  };
  pc.onicecandidateerror = (e) => log[side].errors.push({ errorCode: e.errorCode, errorText: e.errorText, url: e.url });
}

async function selectedPair(pc) {
  const report = await pc.getStats();
  let pair;
  report.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId); });
  if (!pair) return undefined;
  const pick = (c) => c && { candidateType: c.candidateType, protocol: c.protocol, relayProtocol: c.relayProtocol, address: c.address, port: c.port, url: c.url };
  return { state: pair.state, local: pick(report.get(pair.localCandidateId)), remote: pick(report.get(pair.remoteCandidateId)) };
}

// Opens a data channel from a to b through the relay and has b echo 'messages' messages.
window.relayEcho = async ({ iceServers, messages, timeoutMs }) => {
  const config = { iceServers, iceTransportPolicy: 'relay' };
  const a = new RTCPeerConnection(config);
  const b = new RTCPeerConnection(config);
  const log = {};
  watch(a, 'a', log, b);
  watch(b, 'b', log, a);
  b.ondatachannel = (e) => { e.channel.onmessage = (m) => e.channel.send(m.data); };
  const channel = a.createDataChannel('echo');
  const echoed = [];
  const opened = new Promise((resolve) => { channel.onopen = () => resolve(now()); });
  const allBack = new Promise((resolve) => {
    channel.onmessage = (m) => { echoed.push(m.data); if (echoed.length === messages) resolve(); };
  });
  const result = { log, echoed: 0, sent: 0 };
  try {
    await a.setLocalDescription();
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription();
    await a.setRemoteDescription(b.localDescription);
    result.openedAt = await wait(opened, timeoutMs, 'the data channel to open');
    const expected = [];
    for (let i = 0; i < messages; i++) {
      const text = 'message ' + i + ' ' + 'x'.repeat(i % 50);
      expected.push(text);
      channel.send(text);
    }
    result.sent = messages;
    await wait(allBack, timeoutMs, 'every echo');
    result.echoed = echoed.length;
    result.inOrder = echoed.every((text, i) => text === expected[i]);
    result.pairs = { a: await selectedPair(a), b: await selectedPair(b) };
  } catch (error) {
    result.error = String(error);
    result.echoed = echoed.length;
    result.states = { a: a.iceConnectionState, b: b.iceConnectionState };
  } finally {
    a.close();
    b.close();
  }
  return result;
};

// Gathers relay candidates only, for the failure cases: what came and which errors.
window.gatherRelay = async ({ iceServers, timeoutMs }) => {
  const pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
  const log = {};
  watch(pc, 'a', log);
  pc.createDataChannel('probe');
  const complete = new Promise((resolve) => {
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') resolve(); };
  });
  try {
    await pc.setLocalDescription();
    await wait(complete, timeoutMs, 'gathering to complete');
  } catch (error) {
    log.error = String(error);
  } finally {
    pc.close();
  }
  return log;
};
`;

export const RELAY_ECHO_PAGE = `<!doctype html>
<meta charset="utf-8">
<title>relay echo</title>
<script>${SCRIPT}</script>
`;
