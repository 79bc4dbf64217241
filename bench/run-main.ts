// How a benchmark script runs: its main, then every process it started stopped (also on
// Ctrl-C or a crash), and main's result as the exit status.
import { stopAllProcesses } from '../test/support/processes.js';

export function runMain(main: () => Promise<number>): void {
  process.once('SIGINT', () => void stopAllProcesses().then(() => process.exit(130)));
  main()
    .then(async (code) => {
      await stopAllProcesses();
      process.exitCode = code;
    })
    .catch(async (err) => {
      console.error(err);
      await stopAllProcesses();
      process.exitCode = 1;
    });
}
