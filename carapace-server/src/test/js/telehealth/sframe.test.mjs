// RFC 9605 known-answer tests for the visit page's SFrame module (node --test; run by
// ./mvnw verify through exec-maven-plugin). Vectors: src/test/resources/sframe (source in its README).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  SFrameError, SFrameSender, decodeHeader, decryptFrame, deriveKeyAndSalt, encodeHeader, encryptFrame, importSFrameKey,
} from '../../../main/resources/health/carapace/telehealth/web/sframe.js';

const here = fileURLToPath(new URL('.', import.meta.url));
// KIDs and CTRs go up to 2^64 - 1, beyond a JSON number's exact range: read them as strings.
const raw = readFileSync(here + '../../resources/sframe/test-vectors.json', 'utf8')
  .replace(/"(kid|ctr)"\s*:\s*(\d+)/g, '"$1":"$2"');
const vectors = JSON.parse(raw);
const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const AES_GCM_SUITES = new Set([4, 5]);

test('every header vector encodes to its bytes and decodes back', () => {
  assert.equal(vectors.header.length, 289);
  for (const v of vectors.header) {
    const encoded = encodeHeader(BigInt(v.kid), BigInt(v.ctr));
    assert.equal(toHex(encoded), v.encoded, `kid ${v.kid} ctr ${v.ctr}`);
    const decoded = decodeHeader(hex(v.encoded + 'ff')); // followed by payload: the length must stop at the header
    assert.equal(decoded.kid, BigInt(v.kid));
    assert.equal(decoded.ctr, BigInt(v.ctr));
    assert.equal(decoded.length, v.encoded.length / 2);
  }
});

const frameVectors = vectors.sframe.filter((v) => AES_GCM_SUITES.has(v.cipher_suite));

test('the sframe vectors of both AES-GCM suites are present', () => {
  assert.deepEqual(frameVectors.map((v) => v.cipher_suite).sort(), [4, 5]);
});

for (const v of frameVectors) {
  test(`suite ${v.cipher_suite}: key and salt derivation match the vector`, async () => {
    const { key, salt } = await deriveKeyAndSalt(v.cipher_suite, BigInt(v.kid), hex(v.base_key));
    assert.equal(toHex(key), v.sframe_key);
    assert.equal(toHex(salt), v.sframe_salt);
  });

  test(`suite ${v.cipher_suite}: encryption gives the vector's ciphertext, decryption its plaintext`, async () => {
    const key = await importSFrameKey(v.cipher_suite, BigInt(v.kid), hex(v.base_key));
    const ct = await encryptFrame(key, BigInt(v.ctr), hex(v.metadata), hex(v.pt));
    assert.equal(toHex(ct), v.ct);
    const opened = await decryptFrame((kid) => (kid === key.kid ? key : undefined), hex(v.metadata), hex(v.ct));
    assert.equal(toHex(opened.plaintext), v.pt);
    assert.equal(opened.ctr, BigInt(v.ctr));
  });

  test(`suite ${v.cipher_suite}: a changed bit, other metadata or another key opens nothing`, async () => {
    const key = await importSFrameKey(v.cipher_suite, BigInt(v.kid), hex(v.base_key));
    const only = (kid) => (kid === key.kid ? key : undefined);
    const ct = hex(v.ct);
    for (const at of [0, 3, 10, ct.length - 1]) {
      const tampered = ct.slice();
      tampered[at] ^= 0x01;
      await assert.rejects(decryptFrame(only, hex(v.metadata), tampered), SFrameError);
    }
    await assert.rejects(decryptFrame(only, hex('00'), ct), SFrameError);
    const other = await importSFrameKey(v.cipher_suite, BigInt(v.kid), hex(v.base_key).map((b) => b ^ 0xff));
    await assert.rejects(decryptFrame(() => other, hex(v.metadata), ct), SFrameError);
    await assert.rejects(decryptFrame(() => undefined, hex(v.metadata), ct), SFrameError);
  });
}

test('the CTR+HMAC suites are refused, not half-implemented', async () => {
  for (const suite of [1, 2, 3, 6, 7, 8]) {
    await assert.rejects(deriveKeyAndSalt(suite, 1n, new Uint8Array(16)), SFrameError);
  }
});

test('a sender never reuses a counter, so never a nonce', async () => {
  const key = await importSFrameKey(5, 7n, crypto.getRandomValues(new Uint8Array(32)));
  const sender = new SFrameSender(key);
  const counters = [];
  for (let i = 0; i < 20; i++) {
    counters.push(decodeHeader(await sender.encrypt(new Uint8Array(0), new Uint8Array(10))).ctr);
  }
  assert.equal(new Set(counters).size, 20);
});

test('a truncated header and out-of-range values are refused', () => {
  assert.throws(() => decodeHeader(hex('99012345')), SFrameError);
  assert.throws(() => decodeHeader(new Uint8Array(0)), SFrameError);
  assert.throws(() => encodeHeader(-1n, 0n), SFrameError);
  assert.throws(() => encodeHeader(1n << 64n, 0n), SFrameError);
});
