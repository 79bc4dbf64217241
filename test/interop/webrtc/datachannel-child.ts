// The child process of datachannel-process.ts: one libdatachannel call per message from its
// parent, answered with its result before the call's peer connections close and again once
// they have, or with its error; it ends libdatachannel and exits when the parent disconnects.
import { cleanupDataChannel, dataChannelEcho } from './datachannel-echo.js';
import type { ChildAnswer, ChildCall } from './datachannel-process.js';

const answer = (message: ChildAnswer): void => void process.send!(message);

process.on('message', (request: ChildCall) => {
  let answered = false;
  dataChannelEcho(request.turn, request.messages, request.timeoutMs, (result) => {
    answered = true;
    answer({ result });
  }).then(
    () => answer({ closed: true }),
    // After the result was told, a failed close is still a closed call.
    (error: unknown) => answer(answered ? { closed: true } : { error: error instanceof Error ? error.message : String(error) }),
  );
});
process.on('disconnect', () => {
  cleanupDataChannel();
  process.exit(0);
});
