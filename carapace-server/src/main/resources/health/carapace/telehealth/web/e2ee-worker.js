// The RTCRtpScriptTransform worker: every outgoing audio and video frame is encrypted with SFrame
// under this participant's current sender key, every incoming one decrypted with its sender's key
// (looked up by KID among the keys that peer sent us). A frame is never sent in clear: until a
// sender key exists, outgoing frames are dropped. For VP8 video the payload header (10 bytes of a
// key frame, 3 of a delta frame) stays in clear so the packetizer and decoder still work; it is
// SFrame metadata, so it is authenticated.
import { DEFAULT_SUITE, SFrameSender, decryptFrame, importSFrameKey } from './sframe.js';

let sender = null;
const receiving = new Map(); // peer id -> Map(kid string -> SFrame key)
const counters = { encrypted: 0, decrypted: 0, failed: 0, dropped: 0 };
const PREVIOUS_KEY_GRACE_MS = 5000;

function clearBytes(frame) {
  if (frame.type === 'key') return 10;
  if (frame.type === 'delta') return 3;
  return 0; // audio (and empty video frames)
}

async function encrypt(frame, controller) {
  if (!sender) {
    counters.dropped++;
    return;
  }
  const data = new Uint8Array(frame.data);
  const clear = Math.min(clearBytes(frame), data.length);
  const sealed = await sender.encrypt(data.subarray(0, clear), data.subarray(clear));
  const out = new Uint8Array(clear + sealed.length);
  out.set(data.subarray(0, clear));
  out.set(sealed, clear);
  frame.data = out.buffer;
  counters.encrypted++;
  controller.enqueue(frame);
}

async function decrypt(peer, frame, controller) {
  const data = new Uint8Array(frame.data);
  const clear = clearBytes(frame);
  const keys = receiving.get(peer);
  try {
    if (data.length <= clear) throw new Error('short frame');
    const opened = await decryptFrame((kid) => keys?.get(kid.toString()), data.subarray(0, clear), data.subarray(clear));
    const out = new Uint8Array(clear + opened.plaintext.length);
    out.set(data.subarray(0, clear));
    out.set(opened.plaintext, clear);
    frame.data = out.buffer;
    counters.decrypted++;
    controller.enqueue(frame);
  } catch (e) {
    counters.failed++; // dropped: not ours, tampered, or a key we were never given
  }
}

self.onrtctransform = (event) => {
  const transformer = event.transformer;
  const { side, peer } = transformer.options;
  const transform = side === 'send' ? encrypt : (frame, controller) => decrypt(peer, frame, controller);
  transformer.readable.pipeThrough(new TransformStream({ transform })).pipeTo(transformer.writable);
};

self.onmessage = async ({ data }) => {
  if (data.type === 'send-key') {
    sender = new SFrameSender(await importSFrameKey(DEFAULT_SUITE, BigInt(data.kid), data.key));
  } else if (data.type === 'recv-key') {
    const keys = receiving.get(data.peer) ?? new Map();
    receiving.set(data.peer, keys);
    const earlier = [...keys.keys()];
    keys.set(String(data.kid), await importSFrameKey(DEFAULT_SUITE, BigInt(data.kid), data.key));
    // the previous key stays only for frames already in flight
    setTimeout(() => earlier.forEach((kid) => keys.delete(kid)), PREVIOUS_KEY_GRACE_MS);
  } else if (data.type === 'forget-peer') {
    receiving.delete(data.peer);
  }
};

setInterval(() => {
  const known = {};
  for (const [peer, keys] of receiving) known[peer] = [...keys.keys()];
  self.postMessage({ type: 'stats', ...counters, sendKid: sender ? sender.key.kid.toString() : null, known });
}, 250);
