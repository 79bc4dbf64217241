// The admin interface in process, over its real Unix socket: what it answers to requests
// `turnpike admin` never sends, and which socket files it refuses to take over.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createServerControl, startAdminInterface, type AdminInterface } from '../../src/control/index.js';
import { createLogger } from '../../src/log/logger.js';
import { createTurnServer } from '../../src/server.js';
import { testServerOptions } from '../support/server-options.js';
import { cleanupAfterEach } from '../support/cleanups.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-admin-if-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const cleanups = cleanupAfterEach();

const NOT_YET = {
  reload: () => ({ ok: false, error: 'not here', applied: [], needsRestart: [] }),
  drain: () => ({ draining: false, allocations: 0, deadline: 0 }),
};

async function startAdmin(socket: string): Promise<AdminInterface> {
  const server = await createTurnServer(await testServerOptions());
  cleanups.push(() => server.close());
  const logger = createLogger({ level: 'info', noStdout: true });
  const admin = await startAdminInterface({ socket, http: undefined }, createServerControl(server, logger, NOT_YET), logger);
  cleanups.push(() => admin.close());
  return admin;
}

/** One request over the socket: status and parsed body. */
function request(socketPath: string, method: string, requestPath: string, body?: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: requestPath }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the admin interface', () => {
  it('answers 404, 405, 400 and 413 with a JSON error, and 200 to a good request', async () => {
    const socket = path.join(dir, 'answers.sock');
    await startAdmin(socket);
    expect(await request(socket, 'GET', '/nothing')).toEqual({ status: 404, body: { error: 'no such admin path: /nothing' } });
    expect(await request(socket, 'GET', '/disconnect')).toEqual({ status: 405, body: { error: '/disconnect takes POST' } });
    expect((await request(socket, 'POST', '/disconnect', '{"id":"7"}')).status).toBe(400);
    expect((await request(socket, 'POST', '/disconnect', '{"id":7,"user":"alice"}')).status).toBe(400);
    expect(await request(socket, 'PUT', '/loglevel', 'loud')).toEqual({ status: 400, body: { error: 'the request body is not JSON' } });
    expect((await request(socket, 'PUT', '/loglevel', '{"level":"loud"}')).status).toBe(400);
    expect((await request(socket, 'POST', '/disconnect', JSON.stringify({ user: 'x'.repeat(20_000) }))).status).toBe(413);
    expect(await request(socket, 'POST', '/disconnect', '{"user":"nobody"}')).toEqual({ status: 200, body: { disconnected: 0 } });
    expect(await request(socket, 'PUT', '/loglevel', '{"level":"verbose"}')).toEqual({ status: 200, body: { level: 'verbose' } });
  });

  it('answers a request target that is no URL with 400, and serves on', async () => {
    const socket = path.join(dir, 'target.sock');
    await startAdmin(socket);
    const raw = await new Promise<string>((resolve, reject) => {
      const connection = net.connect(socket, () => connection.end('GET // HTTP/1.1\r\nHost: admin\r\n\r\n'));
      let text = '';
      connection.on('data', (d: Buffer) => (text += d.toString()));
      connection.on('close', () => resolve(text));
      connection.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect((await request(socket, 'GET', '/stats')).status).toBe(200);
  });

  it('does not take over a socket another server answers on, nor a file that is not a socket', async () => {
    const socket = path.join(dir, 'busy.sock');
    await startAdmin(socket);
    await expect(startAdmin(socket)).rejects.toThrow(/admin-socket .*busy\.sock: another process is serving .*busy\.sock/);
    const plain = path.join(dir, 'plain-file');
    fs.writeFileSync(plain, 'keep me');
    await expect(startAdmin(plain)).rejects.toThrow(/exists and is not a socket/);
    expect(fs.readFileSync(plain, 'utf8')).toBe('keep me');
  });
});
