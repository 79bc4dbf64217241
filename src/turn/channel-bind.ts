/** ChannelBind (RFC 8656 §12.2): bind or refresh a channel, and the peer's permission with it. */
import { AttributeType, CHANNEL_MIN, readChannelNumber, readXorAddress } from '../stun/index.js';
import type { Allocation } from './allocation.js';
import type { EngineContext } from './engine-context.js';
import { refusePeer } from './peer-checks.js';
import { answerAndRemember, failureFor, successFor, type Request } from './respond.js';

export function handleChannelBind(ctx: EngineContext, request: Request, allocation: Allocation): void {
  const fail = failureFor(ctx, request, allocation.key);
  const number = readChannelNumber(request.message, AttributeType.ChannelNumber);
  const peer = readXorAddress(request.message, AttributeType.XorPeerAddress);
  if (number === undefined || peer === undefined) return fail(400, 'Missing CHANNEL-NUMBER or XOR-PEER-ADDRESS');
  if (number < CHANNEL_MIN || number > ctx.config.maxChannelNumber) return fail(400, 'Channel number out of range');
  const refusal = refusePeer(ctx, allocation, peer, true);
  if (refusal) return fail(refusal.code, refusal.reason);

  // A number stays bound to one peer and a peer to one number for the binding's life and
  // five minutes after (RFC 8656 §12); an expired, unpruned binding still counts here.
  const byNumber = allocation.anyChannelByNumber(number);
  if (byNumber && (byNumber.peerAddress !== peer.address || byNumber.peerPort !== peer.port)) {
    return fail(400, 'Channel number is bound to another peer');
  }
  const byPeer = allocation.anyChannelByPeer(peer.address, peer.port);
  if (byPeer && byPeer.number !== number) return fail(400, 'Peer is bound to another channel');

  if (!byNumber && allocation.channelCount >= ctx.config.maxChannelsPerAllocation) return fail(508, 'Too many channels');
  const expiresAt = request.now + ctx.config.channelLifetimeSeconds * 1000;
  if (byNumber) byNumber.expiresAt = expiresAt;
  else allocation.bindChannel({ number, peerAddress: peer.address, peerPort: peer.port, peerFamily: peer.family, expiresAt });
  const permissionExpiresAt = request.now + ctx.config.permissionLifetimeSeconds * 1000;
  allocation.installPermission(peer.address, permissionExpiresAt);
  ctx.expiry.schedule(allocation, Math.min(expiresAt, permissionExpiresAt));
  answerAndRemember(ctx, request, allocation, successFor(ctx, request));
}
