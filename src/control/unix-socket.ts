/**
 * A Unix socket only its owner can open: file permissions are the admin socket's whole
 * authentication. A socket file left by a killed server is replaced; a live one, or a file
 * that is not a socket, is not touched. Node removes the file when the server closes.
 */
import fs from 'node:fs';
import type { Server } from 'node:http';
import net from 'node:net';

export const SOCKET_MODE = 0o600;

export async function listenOnUnixSocket(server: Server, socketPath: string): Promise<void> {
  await removeStaleSocket(socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // listen() creates the file synchronously: under this umask it is 0600 from its first
    // moment, so no one can connect before the chmod below.
    const umask = process.umask(0o777 & ~SOCKET_MODE);
    try {
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
  fs.chmodSync(socketPath, SOCKET_MODE);
}

async function removeStaleSocket(socketPath: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(socketPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!stat.isSocket()) throw new Error(`${socketPath} exists and is not a socket; it is left alone`);
  const probe = await connectProbe(socketPath);
  if (probe === 'answered') throw new Error(`another process is serving ${socketPath}`);
  if (probe !== 'ECONNREFUSED') throw new Error(`cannot tell whether ${socketPath} is in use (${probe})`);
  fs.unlinkSync(socketPath);
}

/** 'answered', or the error code of the failed connection (ECONNREFUSED: nobody listens). */
function connectProbe(socketPath: string): Promise<string> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve('answered');
    });
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}
