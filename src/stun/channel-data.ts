/** TURN ChannelData messages (RFC 8656 §12.4): a 4-byte header, then the application data. */
export const CHANNEL_DATA_HEADER = 4;

/** RFC 7983: first byte 64-79 (0x40-0x4F) is ChannelData; RFC 5766's wider range goes to 0x7F. */
export const looksLikeChannelData = (data: Uint8Array): boolean =>
  data.length >= CHANNEL_DATA_HEADER && data[0]! >= 0x40 && data[0]! <= 0x7f;

export const channelNumberOf = (data: Buffer): number => data.readUInt16BE(0);

/** Length of the application data, or -1 when the header claims more than arrived. */
export function channelDataLength(data: Buffer): number {
  const length = data.readUInt16BE(2);
  return CHANNEL_DATA_HEADER + length <= data.length ? length : -1;
}

/** The 4-byte header for `length` bytes of data on `channel`. */
export function channelDataHeader(channel: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(CHANNEL_DATA_HEADER);
  header.writeUInt16BE(channel, 0);
  header.writeUInt16BE(length, 2);
  return header;
}
