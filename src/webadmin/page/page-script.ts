/**
 * The web admin page's JavaScript (served as /app.js; no framework, nothing else fetched but
 * the JSON API). Every value from the server goes in with textContent, never as markup.
 * Changes send the session's CSRF token in a header.
 */
export const PAGE_SCRIPT = String.raw`
'use strict';
const $ = (id) => document.getElementById(id);
const TRANSPORT_COLORS = { udp: '#1f77b4', tcp: '#ff7f0e', tls: '#2ca02c', dtls: '#9467bd', total: '#222' };
let me = null;
let view = 'sessions';
let timer = null;
let pending = null;

async function api(method, path, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (me) headers['X-CSRF-Token'] = me.csrf;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const data = await res.json().catch(() => ({ error: 'HTTP ' + res.status }));
  if (res.status === 401 && path !== '/login') { showLogin(); throw new Error(data.error); }
  if (!res.ok) throw new Error(data.error || 'HTTP ' + res.status);
  return data;
}

function say(text, isError) {
  const p = $('message');
  p.textContent = text;
  p.className = isError ? 'error' : '';
}

function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function button(row, label, action, data) {
  const td = document.createElement('td');
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.dataset.action = action;
  Object.assign(b.dataset, data);
  td.appendChild(b);
  row.appendChild(td);
  return b;
}

function fill(tableId, rows, render) {
  const body = $(tableId).tBodies[0];
  body.replaceChildren();
  for (const r of rows) {
    const tr = document.createElement('tr');
    render(tr, r);
    body.appendChild(tr);
  }
}

function bits(n) {
  const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return (i === 0 ? Math.round(n) : n.toFixed(1)) + ' ' + units[i];
}

function age(s) {
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + sec + 's';
}

// ---------------------------------------------------------------- login

function showLogin() {
  me = null;
  stopTimer();
  $('app').hidden = true;
  $('login').hidden = false;
  document.body.dataset.state = 'login';
}

async function logIn(event) {
  event.preventDefault();
  const token = $('token').value;
  const body = token !== '' ? { token } : { user: $('login-user').value, password: $('login-password').value };
  try {
    me = await api('POST', '/login', body);
    $('login-error').textContent = '';
    $('token').value = $('login-password').value = '';
    showApp();
  } catch (error) {
    $('login-error').textContent = error.message;
    document.body.dataset.state = 'login-failed';
  }
}

function showApp() {
  $('login').hidden = true;
  $('app').hidden = false;
  $('who').textContent = me.name + (me.realm ? ' (realm ' + me.realm + ')' : '');
  for (const input of document.querySelectorAll('input.realm')) {
    if (me.realm) { input.value = me.realm; input.readOnly = true; }
  }
  for (const id of ['reload', 'drain']) $(id).disabled = Boolean(me.realm);
  document.body.dataset.state = 'ready';
  show(view);
}

// ---------------------------------------------------------------- views

function stopTimer() {
  if (timer) clearInterval(timer);
  timer = null;
}

const VIEWS = { sessions: [refreshSessions, 2000], traffic: [refreshTraffic, 5000], users: [refreshUsers, 0], server: [refreshServer, 0] };

function show(name) {
  view = name;
  stopTimer();
  delete document.body.dataset.loaded;
  for (const section of document.querySelectorAll('.view')) section.hidden = section.id !== 'view-' + name;
  for (const b of document.querySelectorAll('nav button')) b.setAttribute('aria-current', b.dataset.view === name ? 'page' : 'false');
  const [refresh, every] = VIEWS[name];
  // data-loaded tells tests (and styles) which view's data is on screen.
  const run = () => refresh().then(() => { document.body.dataset.loaded = name; }, (error) => say(error.message, true));
  run();
  if (every) timer = setInterval(run, every);
}

async function refreshSessions() {
  const q = new URLSearchParams();
  if ($('filter-user').value) q.set('user', $('filter-user').value);
  if ($('filter-realm').value) q.set('realm', $('filter-realm').value);
  const sessions = await api('GET', '/api/sessions?' + q);
  $('session-count').textContent = sessions.length + ' session(s)';
  fill('sessions', sessions, (tr, s) => {
    tr.dataset.id = s.id;
    tr.dataset.user = s.user;
    tr.dataset.bytes = s.bytesFromClient + s.bytesToClient;
    for (const v of [s.id, s.user, s.realm, s.transport, s.client, s.relays.join(' '), age(s.ageSeconds)]) cell(tr, v);
    for (const v of [s.permissions, s.channels, s.bytesFromClient + ' / ' + s.bytesToClient, s.packetsFromClient + ' / ' + s.packetsToClient, bits(s.bitsPerSecond)]) cell(tr, v, 'n');
    const td = button(tr, 'Disconnect', 'disconnect', { id: s.id });
    const all = document.createElement('button');
    all.type = 'button';
    all.textContent = 'All of ' + s.user;
    all.dataset.action = 'disconnect-user';
    all.dataset.user = s.user;
    td.parentNode.appendChild(all);
  });
  document.body.dataset.sessions = String(sessions.length);
}

async function disconnect(target) {
  const result = await api('POST', '/api/disconnect', target);
  say('disconnected ' + result.disconnected + ' session(s)');
  await refreshSessions();
}

function chart(containerId, points, series, valueOf, format) {
  const W = 720, H = 180, PAD = 4;
  const container = $(containerId);
  // The last hour, or since the first sample when the server is younger: the line fills the width.
  const t1 = Date.now(), t0 = Math.min(t1 - 60 * 1000, Math.max(t1 - 3600 * 1000, points.length ? points[0].at : t1));
  let max = 0;
  for (const p of points) for (const s of series) max = Math.max(max, valueOf(p, s));
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', W);
  svg.setAttribute('height', H);
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  const top = max || 1;
  for (const s of series) {
    const line = document.createElementNS(ns, 'polyline');
    const xy = points.map((p) => {
      const x = PAD + ((p.at - t0) / (t1 - t0)) * (W - 2 * PAD);
      const y = H - PAD - (valueOf(p, s) / top) * (H - 2 * PAD);
      return x.toFixed(1) + ',' + y.toFixed(1);
    });
    line.setAttribute('points', xy.join(' '));
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', TRANSPORT_COLORS[s]);
    line.setAttribute('stroke-width', s === 'total' ? '2' : '1.5');
    line.dataset.series = s;
    svg.appendChild(line);
  }
  const label = document.createElementNS(ns, 'text');
  label.setAttribute('x', PAD + 2);
  label.setAttribute('y', 14);
  label.textContent = 'max ' + format(max);
  svg.appendChild(label);
  const legend = document.createElement('div');
  legend.className = 'legend';
  for (const s of series) {
    const span = document.createElement('span');
    span.style.color = TRANSPORT_COLORS[s];
    span.textContent = '\u25A0 ' + s;
    legend.appendChild(span);
  }
  container.dataset.max = String(max);
  container.replaceChildren(svg, legend);
}

async function refreshTraffic() {
  const t = await api('GET', '/api/traffic');
  const transports = ['udp', 'tcp', 'tls', 'dtls'];
  chart('chart-bps', t.points, ['total'].concat(transports), (p, s) => (s === 'total' ? p.bitsPerSecond : p.bitsPerSecondBy[s]), bits);
  chart('chart-allocations', t.points, transports, (p, s) => p.allocationsBy[s], String);
  fill('top-users', t.topUsers, (tr, u) => {
    for (const v of [u.user, u.realm]) cell(tr, v);
    for (const v of [u.sessions, u.bytes, bits(u.bitsPerSecond)]) cell(tr, v, 'n');
  });
  fill('refusals', t.refusals, (tr, r) => {
    tr.dataset.code = r.code;
    cell(tr, r.code);
    cell(tr, r.reason);
    cell(tr, r.count, 'n');
  });
}

function renderUserDb(db) {
  fill('users', db.users, (tr, u) => {
    tr.dataset.user = u.name;
    cell(tr, u.name);
    cell(tr, u.realm);
    button(tr, 'Delete', 'delete-user', { user: u.name, realm: u.realm });
  });
  fill('secrets', db.secrets, (tr, s) => {
    cell(tr, s.masked);
    cell(tr, s.realm);
    button(tr, 'Delete', 'delete-secret', { id: s.id, realm: s.realm });
  });
  fill('realm-options', db.realmOptions, (tr, o) => {
    for (const v of [o.realm, o.opt, o.value]) cell(tr, v);
  });
  fill('origins', db.origins, (tr, o) => {
    cell(tr, o.origin);
    cell(tr, o.realm);
    button(tr, 'Delete', 'delete-origin', { origin: o.origin });
  });
}

async function refreshUsers() {
  renderUserDb(await api('GET', '/api/userdb'));
}

async function changeUserDb(fields) {
  renderUserDb(await api('POST', '/api/userdb', fields));
  say(fields.action.replace('-', ' ') + ': done');
}

async function refreshServer() {
  const s = await api('GET', '/api/server');
  const info = $('server-info');
  info.replaceChildren();
  const rows = [['Version', s.version], ['Uptime', s.uptimeSeconds === undefined ? '' : age(s.uptimeSeconds)], ['Configuration file', s.configFile || 'none']];
  for (const [k, v] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    info.append(dt, dd);
  }
  const ul = $('warnings');
  ul.replaceChildren();
  for (const [when, list] of [['start', s.startWarnings || []], ['last reload', s.reloadWarnings || []]]) {
    for (const w of list) {
      const li = document.createElement('li');
      li.textContent = when + ': ' + w;
      ul.appendChild(li);
    }
  }
  fill('settings', s.settings || [], (tr, o) => {
    for (const v of [o.option, o.value, o.from]) cell(tr, v);
  });
}

function confirmThen(text, action) {
  $('confirm-text').textContent = text;
  $('confirm').hidden = false;
  pending = action;
}

async function reload() {
  const r = await api('POST', '/api/reload');
  say(r.ok ? 'reloaded: ' + (r.applied.length ? r.applied.join(', ') : 'nothing changed') + (r.needsRestart.length ? '; needs a restart: ' + r.needsRestart.join(', ') : '') : 'reload refused: ' + r.error, !r.ok);
  await refreshServer();
}

async function drain() {
  const r = await api('POST', '/api/drain');
  say('draining: ' + r.allocations + ' allocation(s) left; the server exits when the last one ends (at the latest ' + new Date(r.deadline).toISOString() + ')');
}

// ---------------------------------------------------------------- wiring

function guarded(fn) {
  return (...args) => Promise.resolve().then(() => fn(...args)).catch((error) => say(error.message, true));
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', logIn);
  $('logout').addEventListener('click', guarded(async () => { await api('POST', '/logout'); showLogin(); }));
  for (const b of document.querySelectorAll('nav button')) b.addEventListener('click', () => show(b.dataset.view));
  $('filter').addEventListener('submit', (e) => { e.preventDefault(); guarded(refreshSessions)(); });
  $('sessions').addEventListener('click', guarded(async (e) => {
    const b = e.target.closest('button');
    if (!b) return;
    if (b.dataset.action === 'disconnect') await disconnect({ id: Number(b.dataset.id) });
    if (b.dataset.action === 'disconnect-user') confirmThen('Disconnect every session of ' + b.dataset.user + '?', () => disconnect({ user: b.dataset.user }));
  }));
  for (const form of document.querySelectorAll('#view-users form')) {
    form.addEventListener('submit', guarded(async (e) => {
      e.preventDefault();
      const fields = { action: form.dataset.action };
      for (const input of form.querySelectorAll('input')) fields[input.name] = input.value;
      await changeUserDb(fields);
      for (const input of form.querySelectorAll('input:not([readonly])')) input.value = '';
    }));
  }
  for (const id of ['users', 'secrets', 'origins']) {
    $(id).addEventListener('click', guarded(async (e) => {
      const b = e.target.closest('button');
      if (!b) return;
      const fields = Object.assign({}, b.dataset);
      confirmThen(b.dataset.action.replace('-', ' ') + ' ' + (b.dataset.user || b.dataset.origin || 'this secret') + '?', () => changeUserDb(fields));
    }));
  }
  $('reload').addEventListener('click', () => confirmThen('Reload the configuration file now?', reload));
  $('drain').addEventListener('click', () => confirmThen('Drain: refuse new allocations and stop when the last one ends?', drain));
  $('confirm-yes').addEventListener('click', guarded(async () => {
    $('confirm').hidden = true;
    const action = pending;
    pending = null;
    if (action) await action();
  }));
  $('confirm-no').addEventListener('click', () => { $('confirm').hidden = true; pending = null; });
  api('GET', '/api/me').then((m) => { me = m; showApp(); }).catch(() => showLogin());
});
`;
