// libdatachannel's calls for the call-setup bench, in a child process of their own: a call's
// PeerConnection.close() can deadlock inside libdatachannel (the main thread waits on a
// transport's mutex that its ICE thread holds while waiting for another), and a JavaScript
// timeout cannot fire in a thread blocked in native code. So the bench bounds each call from
// outside: a call that has not answered in time is a failed sample, its process is killed,
// and the next call gets a fresh one. Times are wall-clock ms, as the tap's (same clock).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DataChannelEchoResult, DataChannelTurn } from '../test/interop/webrtc/datachannel-echo.js';

const CHILD = fileURLToPath(new URL('./datachannel-child.ts', import.meta.url));
/** Beyond the call's own bounds (timeoutMs to open, timeoutMs to echo, 5 s to close): only a process stuck in native code is this late. */
const STUCK_AFTER_MS = 10_000;

/** What the child answers: a call's times, or why it failed. */
export type ChildAnswer = { readonly times: DataChannelEchoResult['times'] } | { readonly error: string };
/** What the child is asked: one call. */
export interface ChildCall {
  readonly turn: DataChannelTurn;
  readonly messages: number;
  readonly timeoutMs: number;
}

export class DataChannelProcess {
  private child: ChildProcess | undefined;

  /** One call's times; throws when it failed, or was stuck and its process killed. */
  async call(request: ChildCall): Promise<DataChannelEchoResult['times']> {
    const child = (this.child ??= fork(CHILD, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    const answer = await new Promise<ChildAnswer>((resolve) => {
      const done = (value: ChildAnswer): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(value);
      };
      const onMessage = (message: ChildAnswer): void => done(message);
      const onExit = (code: number | null, signal: string | null): void => done({ error: `libdatachannel's process exited (${signal ?? code})` });
      const bound = 2 * request.timeoutMs + STUCK_AFTER_MS;
      const timer = setTimeout(() => {
        this.kill();
        done({ error: `libdatachannel stuck: no answer in ${bound} ms; its process was killed` });
      }, bound);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(request);
    });
    if ('error' in answer) {
      if (child.exitCode !== null || child.signalCode !== null) this.child = undefined;
      throw new Error(answer.error);
    }
    return answer.times;
  }

  /** Asks the child to end libdatachannel and exit; killed if it has not within STUCK_AFTER_MS. */
  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const timer = setTimeout(() => child.kill('SIGKILL'), STUCK_AFTER_MS);
    child.disconnect();
    await exited;
    clearTimeout(timer);
  }

  private kill(): void {
    this.child?.kill('SIGKILL');
    this.child = undefined;
  }
}
