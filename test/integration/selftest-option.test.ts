// `self-test-page` in the configuration starts the page beside the server, pointed at it.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createTurnServer, type TurnServer } from '../../src/server.js';
import { testServerOptions } from '../support/server-options.js';

let server: TurnServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('the self-test-page option', () => {
  it('is off by default and, when on, defaults to 127.0.0.1:8089', () => {
    expect(loadConfig(['-n']).options.selfTest).toBeUndefined();
    expect(loadConfig(['-n', '--self-test-page']).options.selfTest).toEqual({ address: '127.0.0.1', port: 8089, turnHost: undefined });
  });

  it('serves the page from a running server, naming its UDP port', async () => {
    server = await createTurnServer(await testServerOptions({ selfTest: { address: '127.0.0.1', port: 0, turnHost: '127.0.0.1' } }));
    const page = server.selfTest!;
    const response = await fetch(page.url);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain(String(server.udpAddresses[0]!.port));
    await server.close();
    await expect(fetch(page.url)).rejects.toThrow();
  });
});
