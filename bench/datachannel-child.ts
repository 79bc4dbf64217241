// The child process of bench/datachannel-process.ts: one libdatachannel call per message from
// the bench, answered with its times or its error; it ends libdatachannel and exits when the
// bench disconnects.
import { cleanupDataChannel, dataChannelEcho } from '../test/interop/webrtc/datachannel-echo.js';
import type { ChildAnswer, ChildCall } from './datachannel-process.js';

const answer = (message: ChildAnswer): void => void process.send!(message);

process.on('message', (request: ChildCall) => {
  dataChannelEcho(request.turn, request.messages, request.timeoutMs).then(
    (result) => answer({ times: result.times }),
    (error: unknown) => answer({ error: error instanceof Error ? error.message : String(error) }),
  );
});
process.on('disconnect', () => {
  cleanupDataChannel();
  process.exit(0);
});
