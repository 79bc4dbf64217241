/** TURN ChannelData messages (RFC 8656 §12.4): a 4-byte header, then the application data. */
export const CHANNEL_DATA_HEADER = 4;

/** RFC 7983: first byte 64-79 (0x40-0x4F) is ChannelData; RFC 5766's wider range goes to 0x7F. */
export const looksLikeChannelData = (data: Uint8Array): boolean => looksLikeChannelDataAt(data, 0, data.length);

/** The same test for `length` bytes of `data` from `offset`. */
export const looksLikeChannelDataAt = (data: Uint8Array, offset: number, length: number): boolean =>
  length >= CHANNEL_DATA_HEADER && data[offset]! >= 0x40 && data[offset]! <= 0x7f;

export const channelNumberOf = (data: Buffer): number => data.readUInt16BE(0);

/** Length of the application data, or -1 when the header claims more than arrived. */
export function channelDataLength(data: Buffer): number {
  const length = data.readUInt16BE(2);
  return CHANNEL_DATA_HEADER + length <= data.length ? length : -1;
}

/**
 * `length` bytes of `data` from `offset` as a Buffer that stays valid: the whole Buffer itself,
 * or a copy of a part (with native UDP I/O, a part of a receive area that is reused next turn).
 */
export function stableBytes(data: Buffer, offset: number, length: number): Buffer {
  if (offset === 0 && length === data.length) return data;
  const copy = Buffer.allocUnsafe(length);
  data.copy(copy, 0, offset, offset + length);
  return copy;
}

/** The 4-byte header for `length` bytes of data on `channel`. */
export function channelDataHeader(channel: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(CHANNEL_DATA_HEADER);
  header.writeUInt16BE(channel, 0);
  header.writeUInt16BE(length, 2);
  return header;
}

/**
 * `length` bytes of `data` from `offset` as one ChannelData frame for a stream: header, data,
 * and the padding to a multiple of 4 that TCP and TLS carry (RFC 8656 §12.5), in one Buffer.
 */
export function channelDataFrame(channel: number, data: Buffer, offset: number, length: number): Buffer {
  const frame = Buffer.allocUnsafe(channelDataSpan(length));
  frame.writeUInt16BE(channel, 0);
  frame.writeUInt16BE(length, 2);
  data.copy(frame, CHANNEL_DATA_HEADER, offset, offset + length);
  frame.fill(0, CHANNEL_DATA_HEADER + length);
  return frame;
}

/** Bytes a ChannelData frame of `length` bytes of data takes on a stream, padding included. */
export const channelDataSpan = (length: number): number => (CHANNEL_DATA_HEADER + length + 3) & ~3;
