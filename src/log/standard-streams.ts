/**
 * stdout and stderr as destinations whose reader may leave: journald restarted, a `| tee`
 * killed, a terminal closed. The next write then fails (EPIPE; EIO on a closed terminal) and
 * Node reports it as an 'error' event, which unhandled ends the process. A server must not
 * end because its log reader did: coturn 4.6.1 ignores SIGPIPE and serves on. Here a stream's
 * first failed write drops it (nothing more is written there) and tells who asked, once.
 */
export type StandardStreamName = 'stdout' | 'stderr';

type GoneListener = (error: Error) => void;

export class StandardStream {
  private failure: Error | undefined;
  private readonly goneListeners = new Set<GoneListener>();

  constructor(
    readonly name: StandardStreamName,
    private readonly stream: NodeJS.WriteStream,
  ) {
    stream.on('error', (error: Error) => this.drop(error));
  }

  /** True once a write has failed there: its reader has gone. */
  get gone(): boolean {
    return this.failure !== undefined;
  }

  write(text: string): void {
    if (this.failure) return;
    try {
      this.stream.write(text);
    } catch (error) {
      // A file or terminal is written synchronously: its failure can come back as a throw.
      this.drop(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Calls `listener` once, when the stream goes; returns how to stop listening. */
  onGone(listener: GoneListener): () => void {
    this.goneListeners.add(listener);
    return () => this.goneListeners.delete(listener);
  }

  /**
   * Resolves once everything written so far has left the process, or failed to: Node writes
   * into a pipe asynchronously and process.exit() drops what waits. A reader that has gone
   * fails the queued writes at once (EPIPE), so nothing is waited for then.
   */
  written(): Promise<void> {
    if (this.failure || this.stream.destroyed || this.stream.writableLength === 0) return Promise.resolve();
    // Writes complete in order: an empty one's callback runs once those queued before it have.
    return new Promise((resolve) => this.stream.write('', () => resolve()));
  }

  private drop(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    const listeners = [...this.goneListeners];
    this.goneListeners.clear();
    for (const listener of listeners) listener(error);
  }
}

export const standardOutput = new StandardStream('stdout', process.stdout);
export const standardError = new StandardStream('stderr', process.stderr);
