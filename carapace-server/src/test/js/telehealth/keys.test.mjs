// The visit page's key exchange (keys.js) under node's WebCrypto: what the browser test shows
// end to end, here case by case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  commitmentOf, newIdentity, newSenderKey, pairKey, shortAuthenticationString, unwrapSenderKey, wrapSenderKey,
} from '../../../main/resources/health/carapace/telehealth/web/keys.js';
import { decryptFrame, encryptFrame, importSFrameKey } from '../../../main/resources/health/carapace/telehealth/web/sframe.js';

test('the private half of a visit key pair cannot be exported', async () => {
  const me = await newIdentity();
  assert.equal(me.privateKey.extractable, false);
  assert.equal(me.publicKey.length, 65);
  await assert.rejects(crypto.subtle.exportKey('pkcs8', me.privateKey));
});

test('a sender key wrapped for B opens at B only, for its KID only, and is non-extractable there', async () => {
  const [a, b, c] = await Promise.all([newIdentity(), newIdentity(), newIdentity()]);
  const sender = await newSenderKey();
  const wrapped = await wrapSenderKey(await pairKey(a, b.publicKey), a.publicKey, b.publicKey, 7, sender.bytes);
  const atB = await unwrapSenderKey(await pairKey(b, a.publicKey), a.publicKey, b.publicKey, 7, wrapped.iv, wrapped.wrapped);
  assert.equal(atB.extractable, false);
  // B decrypts what A's sender key encrypts: the same SFrame key on both sides
  const ours = await importSFrameKey(5, 7n, sender.key);
  const theirs = await importSFrameKey(5, 7n, atB);
  const frame = await encryptFrame(ours, 0n, new Uint8Array(0), new TextEncoder().encode('frame'));
  const opened = await decryptFrame(() => theirs, new Uint8Array(0), frame);
  assert.equal(new TextDecoder().decode(opened.plaintext), 'frame');
  // C, another KID, or the other direction: nothing opens
  await assert.rejects(unwrapSenderKey(await pairKey(c, a.publicKey), a.publicKey, c.publicKey, 7, wrapped.iv, wrapped.wrapped));
  await assert.rejects(unwrapSenderKey(await pairKey(b, a.publicKey), a.publicKey, b.publicKey, 8, wrapped.iv, wrapped.wrapped));
  await assert.rejects(unwrapSenderKey(await pairKey(b, a.publicKey), b.publicKey, a.publicKey, 7, wrapped.iv, wrapped.wrapped));
});

test('everyone computes the same SAS, whatever the order; a substituted key changes it', async () => {
  const [a, b, m] = await Promise.all([newIdentity(), newIdentity(), newIdentity()]);
  const sas = await shortAuthenticationString([a.publicKey, b.publicKey]);
  assert.match(sas, /^\d{3} \d{3}$/);
  assert.equal(await shortAuthenticationString([b.publicKey, a.publicKey]), sas);
  assert.notEqual(await shortAuthenticationString([a.publicKey, m.publicKey]), sas);
});

test('a commitment is the public key\'s SHA-256, so a revealed key must match it', async () => {
  const [a, m] = await Promise.all([newIdentity(), newIdentity()]);
  assert.equal(await commitmentOf(a.publicKey), await commitmentOf(Uint8Array.from(a.publicKey)));
  assert.notEqual(await commitmentOf(m.publicKey), await commitmentOf(a.publicKey));
});
