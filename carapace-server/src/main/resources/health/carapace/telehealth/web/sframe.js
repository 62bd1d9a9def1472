// SFrame (RFC 9605) on WebCrypto alone: the frame format the visit page encrypts every audio and
// video frame with. HKDF (SHA-256 or SHA-512 by suite) derives each sender key's AEAD key and
// salt; AES-GCM is the AEAD. Only the AES-GCM cipher suites are here:
//   4  AES_128_GCM_SHA256_128
//   5  AES_256_GCM_SHA512_128   (Carapace's default)
// Suites 1-3 (AES-CTR + HMAC) are deliberately absent: WebCrypto offers no such AEAD, and
// composing one by hand from AES-CTR and HMAC is a hand-written cipher construction
// (docs/TELEHEALTH.md). The same module runs in the page's RTCRtpScriptTransform worker and
// under node's test runner against the published RFC 9605 vectors.

export const AES_128_GCM_SHA256_128 = 4;
export const AES_256_GCM_SHA512_128 = 5;
export const DEFAULT_SUITE = AES_256_GCM_SHA512_128;

const SUITES = new Map([
  [AES_128_GCM_SHA256_128, Object.freeze({ hash: 'SHA-256', keyBytes: 16, nonceBytes: 12, tagBits: 128 })],
  [AES_256_GCM_SHA512_128, Object.freeze({ hash: 'SHA-512', keyBytes: 32, nonceBytes: 12, tagBits: 128 })],
]);

const MAX_U64 = (1n << 64n) - 1n;
const KEY_LABEL = new TextEncoder().encode('SFrame 1.0 Secret key ');
const SALT_LABEL = new TextEncoder().encode('SFrame 1.0 Secret salt ');

/** Every refusal of this module: unknown suite, bad header, unknown key, failed authentication. */
export class SFrameError extends Error {}

function subtle() {
  return globalThis.crypto.subtle;
}

/** The parameters of a supported cipher suite; refuses any other. */
export function cipherSuite(id) {
  const suite = SUITES.get(id);
  if (!suite) {
    throw new SFrameError('unsupported SFrame cipher suite');
  }
  return suite;
}

function asU64(value) {
  const v = BigInt(value);
  if (v < 0n || v > MAX_U64) {
    throw new SFrameError('KID and CTR are unsigned 64-bit integers');
  }
  return v;
}

/** Big-endian bytes of v, as few as hold it (at least one). */
function minimalBytes(v) {
  const bytes = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  return bytes;
}

function fixedBytes(v, length) {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The SFrame header (RFC 9605 section 4.3): one config byte |X|K(3)|Y|C(3)|, then the KID if it
 * does not fit in K, then the CTR if it does not fit in C, each in as few bytes as hold it.
 */
export function encodeHeader(kid, ctr) {
  const k = asU64(kid);
  const c = asU64(ctr);
  let config = 0;
  const tail = [];
  if (k < 8n) {
    config |= Number(k) << 4;
  } else {
    const bytes = minimalBytes(k);
    config |= 0x80 | ((bytes.length - 1) << 4);
    tail.push(...bytes);
  }
  if (c < 8n) {
    config |= Number(c);
  } else {
    const bytes = minimalBytes(c);
    config |= 0x08 | (bytes.length - 1);
    tail.push(...bytes);
  }
  return Uint8Array.from([config, ...tail]);
}

/** Reads a header from the start of {@code bytes}: { kid, ctr, length } (BigInts, header length). */
export function decodeHeader(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length < 1) {
    throw new SFrameError('SFrame header missing');
  }
  const config = bytes[0];
  let at = 1;
  const read = (length) => {
    if (at + length > bytes.length) {
      throw new SFrameError('SFrame header truncated');
    }
    let v = 0n;
    for (let i = 0; i < length; i++) {
      v = (v << 8n) | BigInt(bytes[at + i]);
    }
    at += length;
    return v;
  };
  const kid = config & 0x80 ? read(((config >> 4) & 0x07) + 1) : BigInt((config >> 4) & 0x07);
  const ctr = config & 0x08 ? read((config & 0x07) + 1) : BigInt(config & 0x07);
  return { kid, ctr, length: at };
}

function label(prefix, kid, suiteId) {
  return concat(prefix, fixedBytes(asU64(kid), 8), fixedBytes(BigInt(suiteId), 2));
}

async function hkdfKey(baseKey) {
  if (baseKey instanceof Uint8Array || baseKey instanceof ArrayBuffer) {
    return subtle().importKey('raw', baseKey, 'HKDF', false, ['deriveBits']);
  }
  return baseKey; // a CryptoKey for HKDF (the page never holds a sender key's bytes longer than it must)
}

/**
 * RFC 9605 section 4.4.2: sframe_key and sframe_salt of one base key and KID, as bytes. One
 * WebCrypto HKDF call is Extract (empty salt) then Expand with the label, which is the RFC's
 * derivation; the vectors' intermediate sframe_secret is therefore never materialised.
 */
export async function deriveKeyAndSalt(suiteId, kid, baseKey) {
  const suite = cipherSuite(suiteId);
  const ikm = await hkdfKey(baseKey);
  const empty = new Uint8Array(0);
  const key = await subtle().deriveBits(
    { name: 'HKDF', hash: suite.hash, salt: empty, info: label(KEY_LABEL, kid, suiteId) }, ikm, suite.keyBytes * 8);
  const salt = await subtle().deriveBits(
    { name: 'HKDF', hash: suite.hash, salt: empty, info: label(SALT_LABEL, kid, suiteId) }, ikm, suite.nonceBytes * 8);
  return { key: new Uint8Array(key), salt: new Uint8Array(salt) };
}

/**
 * One KID's key: the AES-GCM key (non-extractable) and salt derived from its base key.
 * What encryptFrame and decryptFrame take.
 */
export async function importSFrameKey(suiteId, kid, baseKey) {
  const { key, salt } = await deriveKeyAndSalt(suiteId, kid, baseKey);
  const aead = await subtle().importKey('raw', key, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  key.fill(0);
  return Object.freeze({ suite: suiteId, kid: asU64(kid), aead, salt });
}

function nonce(key, ctr) {
  const suite = cipherSuite(key.suite);
  const counter = fixedBytes(asU64(ctr), suite.nonceBytes);
  return key.salt.map((b, i) => b ^ counter[i]);
}

/** header || AES-GCM(key, nonce = salt XOR ctr, aad = header || metadata, plaintext). */
export async function encryptFrame(key, ctr, metadata, plaintext) {
  const header = encodeHeader(key.kid, ctr);
  const sealed = await subtle().encrypt(
    { name: 'AES-GCM', iv: nonce(key, ctr), additionalData: concat(header, metadata), tagLength: cipherSuite(key.suite).tagBits },
    key.aead, plaintext);
  return concat(header, new Uint8Array(sealed));
}

/**
 * Opens one SFrame ciphertext. {@code keyFor(kid)} returns the key of that KID or undefined;
 * an unknown KID or a failed authentication is an SFrameError (the frame is to be dropped).
 */
export async function decryptFrame(keyFor, metadata, ciphertext) {
  const { kid, ctr, length } = decodeHeader(ciphertext);
  const key = keyFor(kid);
  if (!key) {
    throw new SFrameError('no key for this KID');
  }
  const header = ciphertext.subarray(0, length);
  try {
    const opened = await subtle().decrypt(
      { name: 'AES-GCM', iv: nonce(key, ctr), additionalData: concat(header, metadata), tagLength: cipherSuite(key.suite).tagBits },
      key.aead, ciphertext.subarray(length));
    return { kid, ctr, plaintext: new Uint8Array(opened) };
  } catch (e) {
    throw new SFrameError('SFrame authentication failed');
  }
}

/** A sender: one key, a counter that never repeats under it (a new key long before 2^64). */
export class SFrameSender {
  constructor(key) {
    this.key = key;
    this.ctr = 0n;
  }

  async encrypt(metadata, plaintext) {
    if (this.ctr > MAX_U64) {
      throw new SFrameError('SFrame counter exhausted; a new sender key is needed');
    }
    const ctr = this.ctr;
    this.ctr += 1n;
    return encryptFrame(this.key, ctr, metadata, plaintext);
  }
}
