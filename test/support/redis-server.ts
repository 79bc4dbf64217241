// A throwaway redis-server for the redis-userdb tests: a free loopback port, nothing saved to
// disk, stopped by its pid after the test.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Cleanups } from './cleanups.js';
import { freeTcpPort } from './ports.js';

export interface RedisHandle {
  readonly port: number;
  readonly pid: number;
  /** A client for writing coturn's keys. */
  readonly client: Redis;
  stop(): Promise<void>;
}

/** redis-server on a free loopback port, nothing saved; stopped by its pid. */
export async function startRedisServer(cleanups: Cleanups, port?: number): Promise<RedisHandle> {
  const p = port ?? (await freeTcpPort());
  // Its own directory: coturn's turnadmin -N asks for SAVE after each write.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-redis-'));
  const proc: ChildProcess = spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}):\n${output}`));
    });
  });
  proc.removeAllListeners('exit');
  const client = new Redis({ host: '127.0.0.1', port: p, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  await client.connect();
  let stopped: Promise<void> | undefined;
  const handle: RedisHandle = {
    port: p,
    pid: proc.pid!,
    client,
    stop: () =>
      (stopped ??= (async () => {
        client.disconnect();
        if (proc.exitCode === null && proc.signalCode === null) {
          const exited = new Promise<void>((r) => proc.once('exit', () => r()));
          process.kill(proc.pid!, 'SIGTERM');
          await exited;
        }
        fs.rmSync(dir, { recursive: true, force: true });
      })()),
  };
  cleanups.push(() => handle.stop());
  return handle;
}
