/**
 * `turnpike healthcheck [--host H] [--port P] [--timeout MS]`: one STUN Binding over UDP, for
 * Docker's HEALTHCHECK and monitoring. Exit 0 on a success response carrying
 * XOR-MAPPED-ADDRESS, 1 otherwise, with one line saying which.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { parseArgs } from 'node:util';
import { standardError, standardOutput } from '../log/standard-streams.js';
import {
  AttributeType,
  MessageBuilder,
  Method,
  StunClass,
  decodeMessage,
  readErrorCode,
  readXorAddress,
  type StunMessage,
} from '../stun/index.js';

const USAGE = 'usage: turnpike healthcheck [--host 127.0.0.1] [--port 3478] [--timeout 2000]';
/** RFC 8489 §6.2.1: retransmit after 500 ms, doubling, until the deadline. */
const INITIAL_RTO_MS = 500;

interface Target {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
}

function parseTarget(argv: readonly string[]): Target | string {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { host: { type: 'string' }, port: { type: 'string' }, timeout: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return `${(error as Error).message}; ${USAGE}`;
  }
  const port = Number(values.port ?? 3478);
  const timeoutMs = Number(values.timeout ?? 2000);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `bad --port ${values.port}; ${USAGE}`;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) return `bad --timeout ${values.timeout}; ${USAGE}`;
  return { host: values.host ?? '127.0.0.1', port, timeoutMs };
}

/** What a response to our request says, as the one line to print; ok only for the real thing. */
function judge(response: StunMessage): { ok: boolean; line: string } {
  if (response.cls === StunClass.ErrorResponse) {
    const error = readErrorCode(response, AttributeType.ErrorCode);
    return { ok: false, line: `error response ${error ? `${error.code} ${error.reason}` : 'without ERROR-CODE'}` };
  }
  if (response.method !== Method.Binding || response.cls !== StunClass.SuccessResponse)
    return { ok: false, line: 'an answer that is not a Binding success response' };
  const mapped = readXorAddress(response, AttributeType.XorMappedAddress);
  if (!mapped) return { ok: false, line: 'Binding success response without XOR-MAPPED-ADDRESS' };
  return { ok: true, line: `Binding success, mapped address ${mapped.address}:${mapped.port}` };
}

/** Sends the Binding request and settles with the line to print; never rejects. */
function probe(target: Target): Promise<{ ok: boolean; line: string }> {
  const request = new MessageBuilder(Method.Binding, StunClass.Request);
  const sealed = request.build({ fingerprint: true });
  const transactionId = Buffer.from(request.transactionId);
  const socket = dgram.createSocket(isIPv6(target.host) ? 'udp6' : 'udp4');
  return new Promise((resolve) => {
    let retransmit: NodeJS.Timeout | undefined;
    const finish = (result: { ok: boolean; line: string }): void => {
      clearTimeout(deadline);
      clearTimeout(retransmit);
      socket.close();
      resolve(result);
    };
    const deadline = setTimeout(() => finish({ ok: false, line: `no answer within ${target.timeoutMs} ms` }), target.timeoutMs);
    // Connected, so that an ICMP port unreachable comes back as ECONNREFUSED at once.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const refused = error.code === 'ECONNREFUSED';
      finish({ ok: false, line: refused ? 'port unreachable (nothing listens there)' : error.message });
    });
    socket.on('message', (data) => {
      let response;
      try {
        response = decodeMessage(data);
      } catch {
        return; // not STUN: keep waiting for the answer
      }
      if (response.transactionId.equals(transactionId)) finish(judge(response));
    });
    const send = (rto: number): void => {
      socket.send(sealed);
      retransmit = setTimeout(() => send(rto * 2), rto);
    };
    socket.connect(target.port, target.host, () => send(INITIAL_RTO_MS));
  });
}

export async function healthcheck(argv: readonly string[]): Promise<number> {
  const target = parseTarget(argv);
  if (typeof target === 'string') {
    standardError.write(`turnpike healthcheck: ${target}\n`);
    return 1;
  }
  const { ok, line } = await probe(target);
  const where = `${target.host}:${target.port}/udp`;
  if (ok) standardOutput.write(`ok: ${where}: ${line}\n`);
  else standardError.write(`unhealthy: ${where}: ${line}\n`);
  return ok ? 0 : 1;
}
