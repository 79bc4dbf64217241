// A database server the tests start (PostgreSQL, MariaDB): spawned, waited for until its log
// says it is ready, and stopped by its pid.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';

/** Spawns `command` and resolves once its output matches `ready`; rejects with its output if it exits first. */
export async function spawnUntilReady(command: string, args: readonly string[], ready: RegExp, options: SpawnOptions = {}): Promise<ChildProcess> {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start:\n${log}`)), 120_000);
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (ready.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited (${code}):\n${log}`));
    });
  });
  child.removeAllListeners('exit');
  return child;
}

/** Signals the child (when it still runs) and waits for it to exit. */
export async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(child.pid!, signal);
  await exited;
}

/** When the tests run as root: the ids of system user `name` (database servers refuse root). */
export function systemUserWhenRoot(name: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error(`running as root, and there is no ${name} user to run the database server as`);
  return { uid: Number(uid), gid: Number(gid) };
}
