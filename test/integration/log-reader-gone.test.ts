// A server must not end because the reader of its output did: journald restarted, a `| tee`
// killed, a terminal closed. Node reports the next write there as an 'error' (EPIPE) that,
// unhandled, crashed Turnpike at its next log line. coturn 4.6.1 ignores SIGPIPE and serves on.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MessageBuilder, Method, StunClass } from '../../src/stun/index.js';
import { readLog, waitForLine } from '../support/log-lines.js';
import { freeUdpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { UdpTestClient } from '../support/turn-client.js';
import { startTurnpike } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
const STDOUT_GONE = /WARN: stdout is gone \(write EPIPE\): log lines go on to the log file \S+ only\n/;

const dirs: string[] = [];
afterEach(() => stopAllProcesses());
afterAll(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('the reader of stdout goes away', () => {
  it('serves on, says so in the log file and on stderr, and exits 0 on SIGTERM with its log file complete', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-reader-gone-'));
    dirs.push(dir);
    const log = path.join(dir, 'turn.log');
    const port = await freeUdpPort(HOST);
    const server = await startTurnpike(['-n', '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST,
      '--no-tcp', '--no-tls', '--no-dtls', '--log-file', log, '--simple-log'], HOST, port);

    server.proc.child.stdout!.destroy(); // the pipe's only reader: the next write fails with EPIPE
    process.kill(server.pid, 'SIGHUP'); // a log line
    const crashed = server.proc.exited.then((exit) => Promise.reject(new Error(`exited ${JSON.stringify(exit)}:\n${server.proc.stderr}`)));
    await Promise.race([waitForLine(log, STDOUT_GONE), crashed]);
    await waitForLine(log, /SIGHUP: log file reopened/);

    const client = await UdpTestClient.open({ address: HOST, port });
    try {
      expect((await client.transact(new MessageBuilder(Method.Binding, StunClass.Request))).cls).toBe(StunClass.SuccessResponse);
    } finally {
      await client.close();
    }
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect(server.proc.killedByStop).toBe(false);
    expect(readLog(log)).toMatch(/SIGTERM: stopping\n.*\bstopped\n$/s);
    expect(readLog(log).match(new RegExp(STDOUT_GONE, 'g'))).toHaveLength(1);
    expect(server.proc.stderr).toMatch(STDOUT_GONE);
  });
});
