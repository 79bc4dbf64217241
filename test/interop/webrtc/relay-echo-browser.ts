// Headless Chromium on the relay-echo page, for the tests that call its functions.
import { launchChromium } from '../../support/browser.js';
import { servePage } from '../../support/page-server.js';
import { RELAY_ECHO_PAGE } from './relay-echo-page.js';

export interface RelayEchoBrowser {
  /** Runs `window[fn](args)` in the page (relayEcho, gatherRelay) and returns its result. */
  call<T>(fn: string, args: object): Promise<T>;
  close(): Promise<void>;
}

export async function openRelayEchoPage(): Promise<RelayEchoBrowser> {
  const chromium = await launchChromium();
  const pageServer = await servePage(RELAY_ECHO_PAGE).catch(async (error: unknown) => {
    await chromium.close();
    throw error;
  });
  const close = async () => {
    await chromium.close();
    await pageServer.close();
  };
  try {
    const page = await chromium.newPage();
    await page.goto(pageServer.url);
    return { call: <T>(fn: string, args: object) => page.evaluate(`window.${fn}(${JSON.stringify(args)})`) as Promise<T>, close };
  } catch (error) {
    await close();
    throw error;
  }
}
