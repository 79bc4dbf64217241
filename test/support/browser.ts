// Debian's Chromium, headless, driven by playwright-core. Never a browser download: the
// binary is the one test/support/ensure-tools.sh installs with apt.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * The whole command line, built here: Chromium honours only the last --disable-features, so
 * Playwright's defaults (which carry their own) are switched off rather than appended to.
 */
export function chromiumArgs(userDataDir: string): string[] {
  return [
    '--headless',
    '--no-sandbox', // tests run as root
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-extensions',
    '--disable-default-apps',
    '--disable-dev-shm-usage',
    '--mute-audio',
    // Loopback is the only network the tests may use; WebRTC skips it without this.
    '--allow-loopback-in-peer-connection',
    // No mDNS host candidates announced on the real interface.
    '--disable-features=WebRtcHideLocalIpsWithMdns',
    // Nothing outside this machine is looked up.
    '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1',
    // turns: against the run's self-signed certificate.
    '--ignore-certificate-errors',
    `--user-data-dir=${userDataDir}`,
    '--remote-debugging-pipe',
    '--no-startup-window',
  ];
}

export interface HeadlessChromium {
  readonly browser: Browser;
  /** A fresh page in its own context, closed with the page. */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<HeadlessChromium> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (bash test/support/ensure-tools.sh does)`);
  }
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-chromium-'));
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      ignoreDefaultArgs: true,
      args: chromiumArgs(userDataDir),
      timeout: 30_000,
    });
  } catch (error) {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
  let closed: Promise<void> | undefined;
  return {
    browser,
    newPage: async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.once('close', () => void context.close().catch(() => {}));
      return page;
    },
    close: () =>
      (closed ??= (async () => {
        await browser.close();
        fs.rmSync(userDataDir, { recursive: true, force: true });
      })()),
  };
}
