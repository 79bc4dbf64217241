// X25519 key shares, the TLS 1.2 PRF, the cookies' HMAC and ECDSA signing from native/dtls-keys.c's
// addon (the real build, OpenSSL inside Node) and from node:crypto: RFC 7748's test vector, each
// side deriving the other's secret, the small-order shares RFC 7748 §6.1 says to refuse, the same
// PRF bytes, RFC 4231's HMAC vector, the same cookies, and signatures node:crypto verifies.
import { generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { nodeCryptoX25519Share, type KeyShare } from '../../../src/net/dtls/ecdhe.js';
import { CookieJar, nodeCryptoMac } from '../../../src/net/dtls/cookie.js';
import { parseClientHello } from '../../../src/net/dtls/handshake-codec.js';
import { nativeDtlsKeys, type DtlsKeysAddon, type EcdsaSign, type Mac, type Prf } from '../../../src/net/dtls/native-keys.js';
import { DtlsCredentials, SignatureScheme } from '../../../src/net/dtls/credentials.js';
import { nodeCryptoPrf, prf } from '../../../src/net/dtls/suites.js';
import { loadAddon } from '../../../src/net/native-addon.js';

let addon: DtlsKeysAddon;
let nativeShare: () => KeyShare;
let nativePrf: Prf;
let nativeMac: (key: Buffer) => Mac;
let nativeEcdsa: (pkcs8: Buffer) => EcdsaSign;

beforeAll(() => {
  const loaded = loadAddon('dtls-keys', (exports: DtlsKeysAddon) => ({ addon: exports }));
  const state = nativeDtlsKeys();
  // `npm ci` builds it here; a build that fell back would test node:crypto against itself.
  if (!('addon' in loaded) || !('newPair' in state)) throw new Error('native X25519 not loaded');
  addon = loaded.addon;
  nativeShare = state.newPair;
  nativePrf = state.prf;
  nativeMac = state.hmacSha256;
  nativeEcdsa = state.ecdsa;
});

const hex = (s: string) => Buffer.from(s, 'hex');

// RFC 7748 §6.1.
const ALICE_PRIVATE = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
const ALICE_PUBLIC = hex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
const BOB_PRIVATE = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
const BOB_PUBLIC = hex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
const SHARED = hex('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');

/** Points of small order: the results they give are all zeros, whatever the private key. */
const SMALL_ORDER = [Buffer.alloc(32), Buffer.concat([Buffer.from([1]), Buffer.alloc(31)])];

describe('native X25519', () => {
  it("derives RFC 7748's shared secret from either side", () => {
    for (const [own, ownPublic, peer] of [[ALICE_PRIVATE, ALICE_PUBLIC, BOB_PUBLIC], [BOB_PRIVATE, BOB_PUBLIC, ALICE_PUBLIC]] as const) {
      const publicKey = Buffer.alloc(32);
      const key = addon.x25519Share(publicKey, own);
      expect(publicKey).toEqual(ownPublic);
      const secret = Buffer.alloc(32);
      expect(addon.x25519(key, peer, secret)).toBe(true);
      expect(secret).toEqual(SHARED);
    }
  });

  it('makes public keys that node:crypto agrees on, both ways', () => {
    for (let i = 0; i < 20; i++) {
      const ours = nativeShare();
      const theirs = nodeCryptoX25519Share();
      expect(ours.publicKey).toHaveLength(32);
      expect(ours.computeSecret(theirs.publicKey)).toEqual(theirs.computeSecret(ours.publicKey));
    }
  });

  it('makes a new key every time', () => {
    expect(nativeShare().publicKey).not.toEqual(nativeShare().publicKey);
  });

  it.each([['native', () => nativeShare()], ['node:crypto', nodeCryptoX25519Share]])('%s refuses small-order shares and shares of the wrong length', (_name, share) => {
    // Either message: the handshake answers any refusal with illegal_parameter.
    for (const peer of SMALL_ORDER) expect(() => share().computeSecret(peer)).toThrow();
    expect(() => share().computeSecret(Buffer.alloc(31, 9))).toThrow(/bad X25519 share/);
  });

  it('throws a TypeError, not a crash, for buffers of the wrong length and keys it did not make', () => {
    const key = addon.x25519Share(Buffer.alloc(32));
    expect(() => addon.x25519(key, Buffer.alloc(31), Buffer.alloc(32))).toThrow(TypeError);
    expect(() => addon.x25519(ALICE_PRIVATE, BOB_PUBLIC, Buffer.alloc(32))).toThrow(TypeError);
    expect(() => addon.x25519(addon.hmacSha256Key(Buffer.from('k')), BOB_PUBLIC, Buffer.alloc(32))).toThrow(TypeError);
    expect(() => addon.x25519Share(Buffer.alloc(16))).toThrow(TypeError);
    expect(() => addon.x25519Share(Buffer.alloc(32), Buffer.alloc(16))).toThrow(TypeError);
    expect(() => (addon.x25519 as (...args: unknown[]) => boolean)(key, 'nope', Buffer.alloc(32))).toThrow(TypeError);
  });
});

describe('native TLS 1.2 PRF', () => {
  it('is the one the handshake uses, and gives the IETF SHA-256 test vector', () => {
    const out = prf('sha256', hex('9bbe436ba940f017b17652849a71db35'), 'test label', hex('a0ba9f936cda311827a6f796ffd5198c'), 100);
    expect(out.subarray(0, 16)).toEqual(hex('e3f229ba727be17b8d122620557cd453'));
    expect(out).toEqual(nodeCryptoPrf('sha256', hex('9bbe436ba940f017b17652849a71db35'), 'test label', hex('a0ba9f936cda311827a6f796ffd5198c'), 100));
  });

  it.each(['sha256', 'sha384'] as const)('gives the bytes node:crypto gives with %s, at every length the handshake asks for', (hash) => {
    for (const length of [12, 40, 48, 72, 100]) {
      const [secret, seed] = [randomBytes(48), randomBytes(64)];
      expect(nativePrf(hash, secret, 'key expansion', seed, length)).toEqual(nodeCryptoPrf(hash, secret, 'key expansion', seed, length));
    }
  });

  it('throws a TypeError, not a crash, for arguments that are not buffers', () => {
    const call = addon.tls12Prf as (...args: unknown[]) => boolean;
    expect(() => call(false, 'secret', Buffer.alloc(1), Buffer.alloc(1), Buffer.alloc(12))).toThrow(TypeError);
    expect(() => call(false, Buffer.alloc(1), Buffer.alloc(1), Buffer.alloc(1), Buffer.alloc(0))).toThrow(TypeError);
  });
});

describe('native HMAC-SHA256 for cookies', () => {
  it('gives RFC 4231 test case 2, again and again under one context', () => {
    const mac = nativeMac(Buffer.from('Jefe'));
    for (let i = 0; i < 3; i++) {
      expect(mac(Buffer.from('what do ya want for nothing?'))).toEqual(hex('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'));
    }
  });

  it('gives the bytes node:crypto gives, so cookies are the same either way', () => {
    const key = randomBytes(32);
    for (const length of [0, 1, 64, 200]) {
      const data = randomBytes(length);
      expect(nativeMac(key)(data)).toEqual(nodeCryptoMac(key)(data));
    }
    const master = randomBytes(32);
    const now = () => 1_000_000;
    const hello = parseClientHello(Buffer.concat([hex('fefd'), randomBytes(32), hex('00'), hex('00'), hex('0002c02b'), hex('0100')]))!;
    const cookie = new CookieJar(now, master, nativeMac).cookieFor('192.0.2.1', 5000, hello);
    expect(new CookieJar(now, master, nodeCryptoMac).cookieFor('192.0.2.1', 5000, hello)).toEqual(cookie);
    expect(new CookieJar(now, master, nodeCryptoMac).isValid('192.0.2.1', 5000, { ...hello, cookie })).toBe(true);
  });

  it('throws a TypeError, not a crash, for a context it did not make', () => {
    const call = addon.hmacSha256 as (...args: unknown[]) => boolean;
    expect(() => call({}, Buffer.alloc(1), Buffer.alloc(32))).toThrow(TypeError);
    expect(() => call(addon.hmacSha256Key(Buffer.from('k')), Buffer.alloc(1), Buffer.alloc(16))).toThrow(TypeError);
    expect(() => addon.hmacSha256Key(Buffer.alloc(0))).toThrow(TypeError);
  });
});

describe('native ECDSA signing of the ServerKeyExchange', () => {
  it.each([['P-256', 'prime256v1', 'sha256', false], ['P-384', 'secp384r1', 'sha384', true]] as const)('%s: DER signatures node:crypto verifies, a fresh one each time, over exactly the data given', (_name, namedCurve, hash, sha384) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
    const sign = nativeEcdsa(privateKey.export({ format: 'der', type: 'pkcs8' }));
    const data = randomBytes(32 + 32 + 69);
    const first = sign(sha384, data);
    expect(verify(hash, data, publicKey, first)).toBe(true);
    expect(sign(sha384, data)).not.toEqual(first);
    expect(verify(hash, Buffer.concat([data, Buffer.from([0])]), publicKey, first)).toBe(false);
    expect(verify(sha384 ? 'sha256' : 'sha384', data, publicKey, first)).toBe(false);
  });

  it("is what DtlsCredentials signs with for an EC certificate's scheme", () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const certificate = selfSigned(pem);
    const credentials = DtlsCredentials.fromTlsOptions({ cert: certificate, key: pem });
    const data = randomBytes(100);
    expect(verify('sha256', data, publicKey, credentials.sign(SignatureScheme.EcdsaP256Sha256, data))).toBe(true);
  });

  it('refuses a key that is not an EC private key, and throws a TypeError, not a crash, for a signer it did not make', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'der', type: 'pkcs8' });
    expect(() => addon.ecdsaSigner(rsa)).toThrow(/refused/);
    expect(() => addon.ecdsaSigner(Buffer.from('not DER'))).toThrow(/refused/);
    expect(() => addon.ecdsaSigner(Buffer.alloc(0))).toThrow(TypeError);
    const call = addon.ecdsaSign as (...args: unknown[]) => number;
    expect(() => call(addon.hmacSha256Key(Buffer.from('k')), false, Buffer.alloc(1), Buffer.alloc(112))).toThrow(TypeError);
    expect(() => call({}, false, Buffer.alloc(1), Buffer.alloc(112))).toThrow(TypeError);
  });

  it('writes nothing and says 0 when the output buffer is too short', () => {
    const signer = addon.ecdsaSigner(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ format: 'der', type: 'pkcs8' }));
    expect(addon.ecdsaSign(signer, false, Buffer.alloc(10), Buffer.alloc(8))).toBe(0);
  });
});

/** A self-signed certificate for the PEM key, by the openssl command line. */
function selfSigned(keyPem: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecdsa-'));
  try {
    fs.writeFileSync(path.join(dir, 'key.pem'), keyPem);
    execFileSync('openssl', ['req', '-x509', '-key', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    return fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
