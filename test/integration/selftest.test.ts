// The self-test page in headless Chromium against an in-process server: it passes udp, tcp
// and tls on a healthy server, and names the failure (401, or data that cannot cross the
// relays) on a misconfigured one. Plus what its HTTP side answers, without a browser.
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { restPassword } from '../../src/auth/rest-api.js';
import { restCredentialsMinter, startSelfTestPage, type SelfTestPageConfig } from '../../src/selftest/index.js';
import { pageConfigOf } from '../../src/selftest/self-test-page.js';
import { launchChromium, type HeadlessChromium } from '../support/browser.js';
import { LONG_TERM, REST_SECRET, startTurnFixture, type TurnFixture } from '../support/webrtc-turn-server.js';

interface Row {
  transport: string;
  verdict: string;
  code: string;
  details: string;
}

let chromium: HeadlessChromium;
let healthy: TurnFixture;
beforeAll(async () => {
  chromium = await launchChromium();
  healthy = await startTurnFixture();
});
afterAll(async () => {
  await chromium?.close();
  await healthy?.close();
});
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const allTransports = (f: TurnFixture) => ({ udpPort: f.port('udp'), tcpPort: f.port('tcp'), tlsPort: f.port('tls') });

async function pageFor(fixture: TurnFixture, extra: Partial<SelfTestPageConfig>) {
  const selfTest = await startSelfTestPage({ address: '127.0.0.1', port: 0, turnHost: fixture.host, ...extra });
  cleanups.push(() => selfTest.close());
  return selfTest;
}

/** Loads the page, optionally types credentials, clicks Run and reads the verdict table. */
async function runPage(url: string, typed?: { username: string; password: string }): Promise<{ rows: Row[]; problems: string[] }> {
  const page: Page = await chromium.newPage();
  cleanups.push(() => page.close());
  const problems: string[] = [];
  // A CSP violation or a script error shows up here: the page must run clean.
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('body[data-state="ready"]');
  if (typed) {
    await page.check('#typed-choice');
    await page.fill('#username', typed.username);
    await page.fill('#password', typed.password);
  }
  await page.click('#run');
  await page.waitForSelector('body[data-state="done"]', { timeout: 60_000 });
  const rows = await page.$$eval('#verdicts tr', (trs) =>
    trs.map((tr) => ({
      transport: tr.getAttribute('data-transport') ?? '',
      verdict: tr.getAttribute('data-verdict') ?? '',
      code: tr.getAttribute('data-code') ?? '',
      details: tr.textContent ?? '',
    })),
  );
  return { rows, problems };
}

describe('the self-test page in Chromium', () => {
  it('passes udp, tcp and tls with credentials it mints from the server secret', async () => {
    const selfTest = await pageFor(healthy, { ...allTransports(healthy), mintCredentials: restCredentialsMinter({ secret: REST_SECRET }) });
    const { rows, problems } = await runPage(selfTest.url);
    expect(problems).toEqual([]);
    expect(rows.map((r) => [r.transport, r.verdict]), JSON.stringify(rows, null, 1)).toEqual([
      ['udp', 'pass'],
      ['tcp', 'pass'],
      ['tls', 'pass'],
    ]);
  });

  it('passes with credentials the operator types in, when the page cannot mint', async () => {
    const selfTest = await pageFor(healthy, allTransports(healthy));
    const { rows, problems } = await runPage(selfTest.url, LONG_TERM);
    expect(problems).toEqual([]);
    expect(rows.map((r) => r.verdict), JSON.stringify(rows, null, 1)).toEqual(['pass', 'pass', 'pass']);
  });

  it('names 401 on every transport when it mints with a secret the server does not have', async () => {
    const selfTest = await pageFor(healthy, { ...allTransports(healthy), mintCredentials: restCredentialsMinter({ secret: 'not-the-server-secret' }) });
    const { rows, problems } = await runPage(selfTest.url);
    expect(problems).toEqual([]);
    for (const row of rows) {
      expect(row.verdict, JSON.stringify(row)).toBe('fail');
      expect(row.code, JSON.stringify(row)).toBe('401');
      expect(row.details).toMatch(/no relay candidate: 401/);
    }
    expect(rows).toHaveLength(3);
  });

  it('says data cannot cross the relays when the server refuses its own relay addresses as peers', async () => {
    const strict = await startTurnFixture({ allowLoopbackPeers: false });
    cleanups.push(() => strict.close());
    const selfTest = await pageFor(strict, { udpPort: strict.port('udp'), mintCredentials: restCredentialsMinter({ secret: REST_SECRET }) });
    const { rows } = await runPage(selfTest.url);
    expect(rows.map((r) => [r.transport, r.verdict])).toEqual([['udp', 'fail']]);
    expect(rows[0]?.details).toMatch(/relay candidates were allocated but no data went through/);
  });
});

describe('the self-test page over HTTP', () => {
  it('serves the page with a CSP, and /credentials only when it can mint', async () => {
    const minting = await pageFor(healthy, { udpPort: healthy.port('udp'), mintCredentials: restCredentialsMinter({ secret: REST_SECRET, user: 'who' }) });
    const page = await fetch(minting.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'sha256-/);
    expect(await page.text()).toContain(`turn:${healthy.host}:${healthy.port('udp')}?transport=udp`);
    const minted = (await (await fetch(`${minting.url}credentials`)).json()) as { username: string; password: string };
    expect(minted.username).toMatch(/^\d+:who$/);
    expect(minted.password).toBe(restPassword(REST_SECRET, minted.username));

    const typedOnly = await pageFor(healthy, { udpPort: healthy.port('udp') });
    expect((await fetch(`${typedOnly.url}credentials`)).status).toBe(404);
    expect((await fetch(typedOnly.url, { method: 'POST' })).status).toBe(405);
  });

  it('gives the page one URL per configured transport, with an IPv6 host in brackets', () => {
    expect(pageConfigOf({ address: '::1', port: 0, turnHost: '2001:db8::1', udpPort: 3478, tlsPort: 5349 })).toEqual({
      urls: { udp: 'turn:[2001:db8::1]:3478?transport=udp', tls: 'turns:[2001:db8::1]:5349?transport=tcp' },
      canMint: false,
    });
  });

  it('refuses a Host that is not a loopback name while bound to loopback (DNS rebinding)', async () => {
    const selfTest = await pageFor(healthy, { udpPort: healthy.port('udp'), mintCredentials: restCredentialsMinter({ secret: REST_SECRET }) });
    const http = await import('node:http');
    const status = await new Promise<number | undefined>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: selfTest.port, path: '/credentials', headers: { Host: 'attacker.example' } }, (res) => {
          res.resume();
          resolve(res.statusCode);
        })
        .on('error', reject);
    });
    expect(status).toBe(421);
  });
});
