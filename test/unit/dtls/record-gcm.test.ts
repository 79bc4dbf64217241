// DTLS records sealed and opened by native/dtls-aead.c's addon (the real build, OpenSSL inside
// Node) and by node:crypto: the same bytes on the wire, and the same records refused.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { nativeRecordGcm, nodeCryptoGcm, type DtlsAeadAddon, type Gcm } from '../../../src/net/dtls/gcm.js';
import { loadAddon } from '../../../src/net/native-addon.js';
import { RECORD_PLAINTEXT, RecordProtection } from '../../../src/net/dtls/protection.js';
import { ContentType, parseRecords, type DtlsRecord } from '../../../src/net/dtls/record.js';
import { CIPHER_SUITES, keyBlock, type CipherSuite, type KeyBlock } from '../../../src/net/dtls/suites.js';

let native: Gcm;

beforeAll(() => {
  const state = nativeRecordGcm();
  // `npm ci` builds it here; a build that fell back would test node:crypto against itself.
  if (!('gcm' in state)) throw new Error(`native AES-GCM not loaded: ${state.unavailable}`);
  native = state.gcm;
});

/** The client's view of a key block: its write keys are the server's read keys. */
const clientSide = (keys: KeyBlock): KeyBlock => ({ clientKey: keys.serverKey, serverKey: keys.clientKey, clientIv: keys.serverIv, serverIv: keys.clientIv });

const only = (datagram: Buffer): DtlsRecord => parseRecords(datagram)![0]!;

/** A copy of `record` with one byte changed. */
function flipped(record: Buffer, at: number): Buffer {
  const copy = Buffer.from(record);
  copy[at]! ^= 1;
  return copy;
}

const PLAINTEXTS: [string, Buffer[]][] = [
  ['an empty record', []],
  ['one byte', [Buffer.from([7])]],
  ['a ChannelData header and 100 bytes', [Buffer.from([0x40, 0, 0, 100]), randomBytes(100)]],
  ['1,400 bytes', [randomBytes(1400)]],
];

describe.each(CIPHER_SUITES.filter((s) => s.signature === 'ecdsa'))('$name records', (suite: CipherSuite) => {
  const keys = keyBlock(suite, randomBytes(48), randomBytes(32), randomBytes(32));

  it.each(PLAINTEXTS)('native and node:crypto seal %s to the same bytes, and each opens the other', (_what, parts) => {
    const nativeServer = new RecordProtection(suite, keys, native);
    const nodeServer = new RecordProtection(suite, keys, nodeCryptoGcm);
    const sealedNatively = nativeServer.seal(ContentType.ApplicationData, 1, 2 ** 40 + 5, parts);
    const sealedByNode = nodeServer.seal(ContentType.ApplicationData, 1, 2 ** 40 + 5, parts);
    expect(sealedNatively.toString('hex')).toBe(sealedByNode.toString('hex'));

    const plain = Buffer.concat(parts);
    for (const gcm of [native, nodeCryptoGcm]) {
      const client = new RecordProtection(suite, clientSide(keys), gcm);
      expect(client.open(only(sealedNatively))?.equals(plain)).toBe(true);
      expect(client.open(only(sealedByNode))?.equals(plain)).toBe(true);
    }
  });

  it.each([0, 1, 100, 1400])('seals ChannelData of %i bytes from a part of a larger Buffer as a header and a copy would be sealed', (length) => {
    const area = randomBytes(length + 300);
    const header = Buffer.from([0x40, 0x01, length >> 8, length & 0xff]);
    for (const gcm of [native, nodeCryptoGcm]) {
      const server = new RecordProtection(suite, keys, gcm);
      const direct = server.sealChannelData(1, 77, 0x4001, area, 150, length);
      const fromParts = server.seal(ContentType.ApplicationData, 1, 77, [header, area.subarray(150, 150 + length)]);
      expect(direct.toString('hex')).toBe(fromParts.toString('hex'));
      const client = new RecordProtection(suite, clientSide(keys), gcm);
      expect(client.open(only(direct))?.equals(Buffer.concat([header, area.subarray(150, 150 + length)]))).toBe(true);
    }
  });

  it.each(PLAINTEXTS)('native and node:crypto open %s in place, a part of a larger Buffer, to what open() gives', (_what, parts) => {
    const record = new RecordProtection(suite, clientSide(keys), native).seal(ContentType.ApplicationData, 1, 2 ** 33 + 1, parts);
    const plain = Buffer.concat(parts);
    for (const gcm of [native, nodeCryptoGcm]) {
      const area = randomBytes(record.length + 100);
      record.copy(area, 60);
      const length = new RecordProtection(suite, keys, gcm).openAt(area, 60, record.length);
      expect(length).toBe(plain.length);
      expect(area.subarray(60 + RECORD_PLAINTEXT, 60 + RECORD_PLAINTEXT + length).equals(plain)).toBe(true);
    }
  });

  it.each([
    ['a changed tag', (r: Buffer) => flipped(r, r.length - 1)],
    ['a changed sequence number', (r: Buffer) => flipped(r, 10)],
    ['a header that frames more bytes than there are', (r: Buffer) => r.subarray(0, r.length - 1)],
    ['a header that frames fewer', (r: Buffer) => Buffer.concat([r, Buffer.alloc(1)])],
    ['no room for a nonce and a tag', (r: Buffer) => { const short = Buffer.from(r.subarray(0, 36)); short.writeUInt16BE(23, 11); return short; }],
  ])('native and node:crypto refuse in place, without throwing, a record with %s', (_what, tamper) => {
    const record = tamper(new RecordProtection(suite, clientSide(keys), native).seal(ContentType.ApplicationData, 1, 9, [randomBytes(60)]));
    for (const gcm of [native, nodeCryptoGcm]) {
      expect(new RecordProtection(suite, keys, gcm).openAt(Buffer.from(record), 0, record.length)).toBe(-1);
    }
  });

  it.each([0, 100, 1400])('seals ChannelData of %i bytes into a part of a larger Buffer as sealChannelData makes it, natively and with node:crypto', (length) => {
    const data = randomBytes(length + 300);
    for (const gcm of [native, nodeCryptoGcm]) {
      const server = new RecordProtection(suite, keys, gcm);
      const made = server.sealChannelData(1, 2 ** 47 + 3, 0x7ffe, data, 150, length);
      const area = Buffer.alloc(made.length + 80, 0xee);
      expect(server.sealChannelDataAt(area, 40, 1, 2 ** 47 + 3, 0x7ffe, data, 150, length)).toBe(made.length);
      expect(area.subarray(40, 40 + made.length).toString('hex')).toBe(made.toString('hex'));
      // Nothing written outside the record.
      expect(area.subarray(0, 40).every((b) => b === 0xee) && area.subarray(40 + made.length).every((b) => b === 0xee)).toBe(true);
    }
  });

  // Header bytes: 0 type, 1-2 version, 3-10 epoch and sequence (additional data); 13-20 the
  // explicit nonce; the last 16 the tag.
  it.each([
    ['the tag', (r: Buffer) => flipped(r, r.length - 1)],
    ['the content type (additional data)', (r: Buffer) => flipped(r, 0)],
    ['the version (additional data)', (r: Buffer) => flipped(r, 2)],
    ['the sequence number (additional data)', (r: Buffer) => flipped(r, 10)],
    ['the explicit nonce', (r: Buffer) => flipped(r, 13 + 7)],
    ['the ciphertext', (r: Buffer) => flipped(r, 13 + 8)],
  ])('both refuse a record whose %s was changed', (_what, tamper) => {
    const record = new RecordProtection(suite, keys, native).seal(ContentType.ApplicationData, 1, 9, [randomBytes(60)]);
    for (const gcm of [native, nodeCryptoGcm]) {
      const client = new RecordProtection(suite, clientSide(keys), gcm);
      expect(client.open(only(tamper(record)))).toBeUndefined();
      expect(client.open(only(record))).toBeDefined(); // the untouched record still opens
    }
  });

  it('both refuse, without throwing, a record too short to hold a nonce and a tag', () => {
    const record = new RecordProtection(suite, keys, native).seal(ContentType.ApplicationData, 1, 9, []);
    const short = Buffer.from(record.subarray(0, record.length - 1));
    short.writeUInt16BE(short.length - 13, 11);
    for (const gcm of [native, nodeCryptoGcm]) expect(new RecordProtection(suite, clientSide(keys), gcm).open(only(short))).toBeUndefined();
  });
});

describe('the native addon checks what JS hands it', () => {
  const key = randomBytes(16);
  const nonce = randomBytes(12);
  const aad = randomBytes(13);

  it('refuses a range past the end of the buffer, a nonce not of 12 bytes, and a key of another length', () => {
    const sealer = native.sealer('aes-128-gcm', key);
    const buffer = Buffer.alloc(40);
    expect(() => sealer.seal(nonce, aad, buffer, 0, 24)).not.toThrow(); // 24 + the 16-byte tag fit
    expect(() => sealer.seal(nonce, aad, buffer, 1, 24)).toThrow(TypeError);
    expect(() => sealer.seal(nonce, aad, buffer, -1, 4)).toThrow(TypeError);
    expect(() => sealer.seal(nonce, aad, buffer, 0, -1)).toThrow(TypeError);
    expect(() => sealer.seal(nonce.subarray(0, 11), aad, buffer, 0, 4)).toThrow(TypeError);
    expect(() => native.sealer('aes-128-gcm', randomBytes(24))).toThrow(TypeError);
  });

  it('opens nothing past the end of its input, and says no rather than throwing', () => {
    const opener = native.opener('aes-128-gcm', key);
    expect(opener.open(nonce, aad, Buffer.alloc(40), 0, 25)).toBeUndefined();
    expect(opener.open(nonce, aad, Buffer.alloc(40), 0, 24)).toBeUndefined(); // fits, does not authenticate
  });

  it('opens and seals whole records only within their buffers, and only with a context that has a salt', () => {
    const addon = loadAddon('dtls-aead', (exports: DtlsAeadAddon) => ({ addon: exports }));
    if (!('addon' in addon)) throw new Error(addon.unavailable);
    const { createContext, openRecord, sealChannelData } = addon.addon;
    const salt = randomBytes(4);
    const opening = createContext(key, false, salt);
    const sealing = createContext(key, true, salt);
    const area = Buffer.alloc(200);
    expect(openRecord(opening, area, 0, 200)).toBe(-1); // inside, but its header frames 0 bytes
    expect(() => openRecord(opening, area, 1, 200)).toThrow(TypeError);
    expect(() => openRecord(opening, area, -1, 10)).toThrow(TypeError);
    expect(() => openRecord(opening, area, 0, -1)).toThrow(TypeError);
    expect(() => openRecord(createContext(key, false), area, 0, 50)).toThrow(TypeError); // no salt
    expect(() => openRecord(sealing, area, 0, 50)).toThrow(TypeError);
    expect(sealChannelData(sealing, area, 0, 1, 5, 0x4000, area, 150, 50)).toBe(91); // 50 + 41 fit in 200
    expect(() => sealChannelData(sealing, area, 110, 1, 5, 0x4000, area, 150, 50)).toThrow(TypeError);
    expect(() => sealChannelData(sealing, area, 0, 1, 5, 0x4000, area, 151, 50)).toThrow(TypeError);
    expect(() => sealChannelData(sealing, area, 0, 1, 2 ** 48, 0x4000, area, 0, 10)).toThrow(TypeError);
    expect(() => sealChannelData(sealing, area, 0, 1, 5, 0x10000, area, 0, 10)).toThrow(TypeError);
    expect(() => sealChannelData(createContext(key, true), area, 0, 1, 5, 0x4000, area, 0, 10)).toThrow(TypeError);
    expect(() => sealChannelData(opening, area, 0, 1, 5, 0x4000, area, 0, 10)).toThrow(TypeError);
    expect(() => createContext(key, true, randomBytes(3))).toThrow(TypeError);
  });

  it('takes only its own contexts, each in its own direction', () => {
    const addon = loadAddon('dtls-aead', (exports: DtlsAeadAddon) => ({ addon: exports }));
    if (!('addon' in addon)) throw new Error(addon.unavailable);
    const { createContext, seal, open } = addon.addon;
    const buffer = Buffer.alloc(40);
    expect(() => seal(createContext(key, false), nonce, aad, buffer, 0, 4)).toThrow(TypeError);
    expect(() => open(createContext(key, true), nonce, aad, buffer, 0, 4, Buffer.alloc(4), 0)).toThrow(TypeError);
    expect(() => seal({}, nonce, aad, buffer, 0, 4)).toThrow(TypeError);
    // Decrypting into the bytes being read, shifted, would garble them: in place or apart only.
    expect(() => open(createContext(key, false), nonce, aad, buffer, 0, 8, buffer, 4)).toThrow(TypeError);
    expect(open(createContext(key, false), nonce, aad, buffer, 0, 8, buffer, 0)).toBe(false);
  });
});
