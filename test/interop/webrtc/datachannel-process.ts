// libdatachannel's calls (the interop test, the call-setup bench) in a child process of their
// own: a call's PeerConnection.close() can deadlock inside libdatachannel (the main thread waits
// on a transport's mutex that its ICE thread holds while waiting for another), and a JavaScript
// timeout cannot fire in a thread blocked in native code, so in the test's own process it would
// hang the test run. Each call is bounded from outside: one that has not answered in time
// fails, its process is killed, and the next call gets a fresh one. The child answers before it
// closes the call, so a close that deadlocks costs the next call a fresh process, not this
// call's result. Times are wall-clock ms, as the bench tap's (same clock).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DataChannelEchoResult, DataChannelTurn } from './datachannel-echo.js';

const CHILD = fileURLToPath(new URL('./datachannel-child.ts', import.meta.url));
/** Beyond the call's own bounds (timeoutMs to open, timeoutMs to echo, 5 s to close): only a process stuck in native code is this late. */
const STUCK_AFTER_MS = 10_000;

/** What the child says: a call's result (before it closes the call), that the call is closed, or why it failed (closed too). */
export type ChildAnswer = { readonly result: DataChannelEchoResult } | { readonly closed: true } | { readonly error: string };
/** What the child is asked: one call. */
export interface ChildCall {
  readonly turn: DataChannelTurn;
  readonly messages: number;
  readonly timeoutMs: number;
}

export class DataChannelProcess {
  private child: ChildProcess | undefined;
  /** The last call's close, which the next call waits for before it reuses the process. */
  private closing: Promise<void> = Promise.resolve();

  /** One call's result; throws when it failed, or was stuck and its process killed. */
  async call(request: ChildCall): Promise<DataChannelEchoResult> {
    await this.closing;
    const child = (this.child ??= fork(CHILD, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    child.send(request);
    const answer = await this.nextAnswer(child, 2 * request.timeoutMs + STUCK_AFTER_MS);
    if ('result' in answer) {
      this.closing = this.nextAnswer(child, STUCK_AFTER_MS).then(() => undefined);
      return answer.result;
    }
    throw new Error('error' in answer ? answer.error : 'libdatachannel closed a call it never answered');
  }

  /** The child's next message; its process is killed (and forgotten) if none comes within boundMs. */
  private nextAnswer(child: ChildProcess, boundMs: number): Promise<ChildAnswer> {
    return new Promise<ChildAnswer>((resolve) => {
      const done = (value: ChildAnswer): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (child.exitCode !== null || child.signalCode !== null) this.forget(child);
        resolve(value);
      };
      const onMessage = (message: ChildAnswer): void => done(message);
      const onExit = (code: number | null, signal: string | null): void => done({ error: `libdatachannel's process exited (${signal ?? code})` });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        this.forget(child);
        done({ error: `libdatachannel stuck: no answer in ${boundMs} ms; its process was killed` });
      }, boundMs);
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  }

  /** Asks the child to end libdatachannel and exit; killed if it has not within STUCK_AFTER_MS. */
  async close(): Promise<void> {
    await this.closing;
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const timer = setTimeout(() => child.kill('SIGKILL'), STUCK_AFTER_MS);
    child.disconnect();
    await exited;
    clearTimeout(timer);
  }

  private forget(child: ChildProcess): void {
    if (this.child === child) this.child = undefined;
  }
}
