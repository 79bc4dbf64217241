// A relay worker's side of the allocation ledger, for ledger-workers.test.ts: in its own
// thread it reserves through a LedgerClient on the port it was given, as a worker's engine
// would. Plain JavaScript importing dist/ (built by pretest), so it runs the same under vitest.
import { parentPort, workerData } from 'node:worker_threads';
import { LedgerClient } from '../../dist/turn/ledger-port.js';

// With `unrecorded` (the server's memory and this worker's slot), unlimited reservations are granted here.
const client = new LedgerClient(workerData.port, workerData.unrecorded);
let leases = [];

parentPort.on('message', async (command) => {
  if (command.type === 'reserve') {
    // All at once: the main thread, not this worker, must keep them within the limits.
    const answers = await Promise.all(command.requests.map((request) => client.reserve(request)));
    leases.push(...answers.filter((a) => a.ok).map((a) => a.lease));
    parentPort.postMessage({ type: 'answers', answers });
  } else if (command.type === 'release') {
    for (const lease of leases) client.release(lease);
    leases = [];
    parentPort.postMessage({ type: 'released' });
  } else if (command.type === 'stop') {
    client.close();
    parentPort.close();
  }
});
parentPort.postMessage({ type: 'ready' });
