// The end-to-end key exchange of a visit, on WebCrypto alone (docs/TELEHEALTH.md):
//  - each participant makes a non-extractable ECDH P-256 key pair for the visit;
//  - it first sends every peer a commitment (SHA-256 of its public key) and reveals the key to a
//    peer only once it holds that peer's commitment, so that whoever relays the messages must fix
//    the keys it substitutes before seeing the real ones (as ZRTP does): one guess at the SAS;
//  - a pair of participants derives a wrapping key from their ECDH secret (HKDF-SHA-256, both
//    public keys in the info) and wraps media sender keys under it with AES-GCM;
//  - the short authentication string (SAS) is derived from every public key in the visit: the
//    participants read it aloud; a relay that swapped keys makes it differ.

const subtle = () => globalThis.crypto.subtle;
const encoder = new TextEncoder();
const WRAP_INFO = encoder.encode('carapace telehealth sender-key wrap v1');
const SAS_LABEL = encoder.encode('carapace telehealth SAS v1');

export const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
export const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function compare(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/** The visit's key pair: the private half never leaves WebCrypto; the public half as raw bytes. */
export async function newIdentity() {
  const pair = await subtle().generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const publicKey = new Uint8Array(await subtle().exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicKey };
}

export async function commitmentOf(publicKey) {
  return b64(new Uint8Array(await subtle().digest('SHA-256', publicKey)));
}

/** The AES-GCM key two participants wrap sender keys under; the same on both sides. */
export async function pairKey(identity, peerPublicKey) {
  const peer = await subtle().importKey('raw', peerPublicKey, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const secret = await subtle().deriveBits({ name: 'ECDH', public: peer }, identity.privateKey, 256);
  const ikm = await subtle().importKey('raw', secret, 'HKDF', false, ['deriveKey']);
  const [first, second] = [identity.publicKey, peerPublicKey].sort(compare);
  return subtle().deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: concat(WRAP_INFO, first, second) },
    ikm, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

/** What binds a wrapped key to its direction and KID: sender's and recipient's public keys, the KID. */
function wrapAad(senderPublicKey, recipientPublicKey, kid) {
  return concat(senderPublicKey, recipientPublicKey, encoder.encode(String(kid)));
}

export async function wrapSenderKey(key, senderPublicKey, recipientPublicKey, kid, baseKeyBytes) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapped = await subtle().encrypt(
    { name: 'AES-GCM', iv, additionalData: wrapAad(senderPublicKey, recipientPublicKey, kid) }, key, baseKeyBytes);
  return { iv: b64(iv), wrapped: b64(new Uint8Array(wrapped)) };
}

/** A peer's sender key as a non-extractable HKDF key (what the SFrame worker derives from). */
export async function unwrapSenderKey(key, senderPublicKey, recipientPublicKey, kid, iv, wrapped) {
  const bytes = new Uint8Array(await subtle().decrypt(
    { name: 'AES-GCM', iv: unb64(iv), additionalData: wrapAad(senderPublicKey, recipientPublicKey, kid) }, key, unb64(wrapped)));
  try {
    return await subtle().importKey('raw', bytes, 'HKDF', false, ['deriveBits']);
  } finally {
    bytes.fill(0);
  }
}

/** A new random sender key: its bytes (to wrap for peers) and a non-extractable HKDF key (for the worker). */
export async function newSenderKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const key = await subtle().importKey('raw', bytes, 'HKDF', false, ['deriveBits']);
  return { bytes, key };
}

/** Six digits from every public key in the visit (sorted, so every participant computes the same). */
export async function shortAuthenticationString(publicKeys) {
  const sorted = [...publicKeys].sort(compare);
  const digest = new Uint8Array(await subtle().digest('SHA-256', concat(SAS_LABEL, ...sorted)));
  const value = ((digest[0] << 24) | (digest[1] << 16) | (digest[2] << 8) | digest[3]) >>> 0;
  const digits = String(value % 1000000).padStart(6, '0');
  return `${digits.slice(0, 3)} ${digits.slice(3)}`;
}
