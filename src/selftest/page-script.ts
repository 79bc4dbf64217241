/**
 * The self-test page's JavaScript, inlined into the HTML (no build step, nothing fetched but
 * /credentials). Per transport: two relay-only RTCPeerConnections in the page gather against
 * the server, open a data channel through their relays and echo a few messages; the verdict
 * names what failed and the error code the browser reported.
 */
export const PAGE_SCRIPT = String.raw`
'use strict';
const config = JSON.parse(document.getElementById('config').textContent);
const $ = (id) => document.getElementById(id);
const MESSAGES = 20;
const TIMEOUT_MS = 10000;

const HINTS = {
  400: 'the server could not parse a request',
  401: 'credentials refused: wrong password, REST username signed with another secret, expired REST username, or another realm',
  403: 'forbidden by the server',
  437: 'allocation mismatch',
  438: 'stale nonce',
  441: 'wrong credentials for this allocation',
  486: 'allocation quota reached for this user',
  508: 'the server has no relay port free',
  701: 'no answer from the server: unreachable address or port, blocked by a firewall, or the TLS handshake failed (certificate not trusted for this host name?)',
};

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function addCandidate(transport, side, c, ms) {
  const row = $('candidates').insertRow();
  row.dataset.transport = transport;
  row.dataset.type = c.type || '';
  for (const text of [transport, side, c.type, c.protocol, c.relayProtocol || '', c.address + ':' + c.port, ms + ' ms']) cell(row, text);
}

function log(text) {
  const li = document.createElement('li');
  li.textContent = text;
  $('log').appendChild(li);
}

function setVerdict(transport, verdict) {
  const row = document.querySelector('#verdicts tr[data-transport="' + transport + '"]');
  row.dataset.verdict = verdict.status;
  row.dataset.code = verdict.code === undefined ? '' : String(verdict.code);
  row.cells[1].textContent = verdict.status.toUpperCase();
  row.cells[2].textContent = verdict.code === undefined ? '' : String(verdict.code);
  row.cells[3].textContent = verdict.message;
}

async function credentials() {
  if (config.canMint && $('mint').checked) {
    const response = await fetch('credentials', { cache: 'no-store' });
    if (!response.ok) throw new Error('GET /credentials answered ' + response.status);
    return response.json();
  }
  return { username: $('username').value, password: $('password').value };
}

async function selectedPair(pc) {
  const report = await pc.getStats();
  let pair;
  report.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId); });
  return pair && { local: report.get(pair.localCandidateId), remote: report.get(pair.remoteCandidateId) };
}

// Resolves with the failure to report, or never (the caller races it against success).
function failure(pcs, relays, t0) {
  return new Promise((resolve) => {
    let complete = 0;
    pcs.forEach((pc, i) => pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState !== 'complete') return;
      if (relays[i] === 0) resolve({ stage: 'gather' });
      if (++complete === pcs.length) log('gathering complete after ' + Math.round(performance.now() - t0) + ' ms');
    }));
    pcs.forEach((pc) => pc.addEventListener('iceconnectionstatechange', () => {
      if (pc.iceConnectionState === 'failed') resolve({ stage: relays[0] && relays[1] ? 'connect' : 'gather' });
    }));
    setTimeout(() => resolve({ stage: relays[0] && relays[1] ? 'connect' : 'gather', timedOut: true }), TIMEOUT_MS);
  });
}

function failVerdict(stage, errors, timedOut) {
  const first = errors.find((e) => e.code) || errors[0];
  const code = first ? first.code : undefined;
  if (stage === 'gather') {
    const why = code ? code + ' ' + (first.text || '') + ' — ' + (HINTS[code] || 'see the TURN error code') : (timedOut ? 'no relay candidate before the time limit' : 'no relay candidate and no error reported');
    return { status: 'fail', code, message: 'no relay candidate: ' + why };
  }
  return { status: 'fail', code, message: 'relay candidates were allocated but no data went through the relays: the server must accept its own relay addresses as peers (allow-loopback-peers, denied-peer-ip, allowed-peer-ip), and the relay addresses must be reachable from the server' };
}

async function runTransport(transport, url, login) {
  setVerdict(transport, { status: 'running', message: url });
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  const iceServers = [{ urls: url, username: login.username, credential: login.password }];
  const pcs = [0, 1].map(() => new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' }));
  const relays = [0, 0];
  const errors = [];
  pcs.forEach((pc, i) => {
    const other = pcs[1 - i];
    pc.onicecandidate = (e) => {
      if (!e.candidate) return;
      addCandidate(transport, i ? 'B' : 'A', e.candidate, ms());
      if (e.candidate.type === 'relay') relays[i]++;
      other.addIceCandidate(e.candidate).catch((err) => log(transport + ': addIceCandidate: ' + err));
    };
    pc.onicecandidateerror = (e) => {
      errors.push({ code: e.errorCode, text: e.errorText, url: e.url });
      log(transport + ': ' + (i ? 'B' : 'A') + ': error ' + e.errorCode + ' ' + e.errorText + ' (' + e.url + ') after ' + ms() + ' ms');
    };
  });
  pcs[1].ondatachannel = (e) => { e.channel.onmessage = (m) => e.channel.send(m.data); };
  const channel = pcs[0].createDataChannel('self-test');
  let echoed = 0;
  const opened = new Promise((resolve) => { channel.onopen = () => resolve({ stage: 'open' }); });
  const allBack = new Promise((resolve) => { channel.onmessage = () => { if (++echoed === MESSAGES) resolve({ stage: 'echoed' }); }; });
  const failed = failure(pcs, relays, t0);
  try {
    await pcs[0].setLocalDescription();
    await pcs[1].setRemoteDescription(pcs[0].localDescription);
    await pcs[1].setLocalDescription();
    await pcs[0].setRemoteDescription(pcs[1].localDescription);
    let step = await Promise.race([opened, failed]);
    if (step.stage !== 'open') return failVerdict(step.stage, errors, step.timedOut);
    const openMs = ms();
    for (let i = 0; i < MESSAGES; i++) channel.send('self-test ' + i);
    step = await Promise.race([allBack, failed]);
    if (step.stage !== 'echoed') return { status: 'fail', message: 'the data channel opened but only ' + echoed + ' of ' + MESSAGES + ' echoes came back' };
    const pair = await selectedPair(pcs[0]);
    const local = pair && pair.local;
    if (!local || local.candidateType !== 'relay' || pair.remote.candidateType !== 'relay') {
      return { status: 'fail', message: 'data went through, but not relay to relay' };
    }
    const wanted = transport;
    if (local.relayProtocol && local.relayProtocol !== wanted) {
      return { status: 'fail', message: 'the browser reached the server over ' + local.relayProtocol + ', not ' + wanted };
    }
    return {
      status: 'pass',
      message: 'relay ' + local.address + ':' + local.port + ' over ' + (local.relayProtocol || wanted) +
        '; data channel open after ' + openMs + ' ms; ' + echoed + '/' + MESSAGES + ' messages echoed in ' + ms() + ' ms',
    };
  } catch (error) {
    return { status: 'fail', message: String(error) };
  } finally {
    pcs.forEach((pc) => pc.close());
  }
}

async function runAll() {
  $('run').disabled = true;
  document.body.dataset.state = 'running';
  $('candidates').replaceChildren();
  $('log').replaceChildren();
  const results = {};
  try {
    for (const transport of Object.keys(config.urls)) {
      let login;
      try {
        login = await credentials();
      } catch (error) {
        results[transport] = { status: 'fail', message: 'no credentials: ' + error.message };
        setVerdict(transport, results[transport]);
        continue;
      }
      // A bad URL or an empty username throws from the RTCPeerConnection constructor.
      results[transport] = await runTransport(transport, config.urls[transport], login)
        .catch((error) => ({ status: 'fail', message: String(error) }));
      setVerdict(transport, results[transport]);
    }
  } finally {
    window.selfTestResults = results;
    document.body.dataset.state = 'done';
    $('run').disabled = false;
  }
}

function setUp() {
  for (const [transport, url] of Object.entries(config.urls)) {
    const row = $('verdicts').insertRow();
    row.dataset.transport = transport;
    for (const text of [transport + ' (' + url + ')', 'not run', '', '']) cell(row, text);
  }
  if (!Object.keys(config.urls).length) log('no transport is configured');
  $('mint-choice').hidden = !config.canMint;
  $('mint').checked = config.canMint;
  $('typed-choice').checked = !config.canMint;
  const typed = () => { $('typed').hidden = config.canMint && $('mint').checked; };
  $('mint').addEventListener('change', typed);
  $('typed-choice').addEventListener('change', typed);
  typed();
  $('run').addEventListener('click', () => void runAll());
  document.body.dataset.state = 'ready';
}

setUp();
`;
