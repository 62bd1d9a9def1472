// The visit page (docs/TELEHEALTH.md). Joins the signaling socket with the one-time ticket or the
// patient's link from the URL's fragment (never sent to a server), exchanges keys end to end
// (keys.js), and encrypts every frame in the RTCRtpScriptTransform worker (e2ee-worker.js,
// SFrame). Without encoded transforms it refuses to send anything.
import {
  b64, commitmentOf, newIdentity, newSenderKey, pairKey, shortAuthenticationString, unb64, unwrapSenderKey,
  wrapSenderKey,
} from './keys.js';

const $ = (id) => document.getElementById(id);
const secret = new URLSearchParams(location.hash.slice(1));
// the secret leaves the address bar (and any later bookmark or screenshot) at once
history.replaceState(null, '', location.pathname);

const state = {
  socket: null, me: null, role: null, identity: null, commitment: null, worker: null, stream: null,
  peers: new Map(), // id -> { role, pc, commitment, commitSent, revealed, publicKey, wrapKey, pendingIce, video }
  generation: 0, kidPrefix: crypto.getRandomValues(new Uint32Array(1))[0] & 0xfffff,
  sender: null, // { kid, bytes }
  rotation: null,
  iceServers: [],
};

function status(text) {
  $('status').textContent = text;
}

function supported() {
  return 'RTCRtpScriptTransform' in window && 'RTCPeerConnection' in window && !!globalThis.crypto?.subtle;
}

function setEncrypted(on) {
  const badge = $('e2ee');
  badge.className = on ? 'e2ee on' : 'e2ee off';
  badge.dataset.state = on ? 'on' : 'off';
  badge.textContent = on ? 'End-to-end encrypted (SFrame, AES-256-GCM)' : 'Not connected';
}

function send(message) {
  if (state.socket?.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify(message));
  }
}

function renderParticipants() {
  const list = $('participants');
  list.replaceChildren();
  const me = document.createElement('li');
  me.textContent = `You (${state.role})`;
  list.append(me);
  for (const [id, peer] of state.peers) {
    const item = document.createElement('li');
    item.dataset.participant = id;
    item.textContent = `${peer.role} · ${peer.wrapKey ? 'keys exchanged' : 'exchanging keys…'}`;
    list.append(item);
  }
}

async function renderSas() {
  const keys = [state.identity.publicKey];
  for (const peer of state.peers.values()) {
    if (peer.publicKey) keys.push(peer.publicKey);
  }
  const sas = keys.length > 1 ? await shortAuthenticationString(keys) : '';
  $('sas').textContent = sas || '— — —';
  $('sas').dataset.sas = sas;
  $('sas').dataset.keys = String(keys.length);
}

// --- keys -------------------------------------------------------------------------------------

async function rotateSenderKey(switchAfterMs) {
  state.generation += 1;
  const kid = state.kidPrefix * 65536 + (state.generation & 0xffff);
  const fresh = await newSenderKey();
  const previous = state.sender;
  state.sender = { kid, bytes: fresh.bytes };
  for (const [id, peer] of state.peers) {
    if (peer.wrapKey) await sendSenderKey(id, peer);
  }
  const install = () => state.worker.postMessage({ type: 'send-key', kid, key: fresh.key });
  if (switchAfterMs > 0) setTimeout(install, switchAfterMs); else install();
  if (previous) setTimeout(() => previous.bytes.fill(0), switchAfterMs + 1000);
}

async function sendSenderKey(id, peer) {
  const { kid, bytes } = state.sender;
  const { iv, wrapped } = await wrapSenderKey(peer.wrapKey, state.identity.publicKey, peer.publicKey, kid, bytes);
  send({ type: 'sender-key', to: id, kid, iv, wrapped });
}

function peerOf(id, role) {
  let peer = state.peers.get(id);
  if (!peer) {
    peer = { role: role ?? 'participant', pc: null, commitment: null, commitSent: false, revealed: false,
      publicKey: null, wrapKey: null, pendingIce: [], video: null };
    state.peers.set(id, peer);
    renderParticipants();
  }
  return peer;
}

function sendCommit(id, peer) {
  if (!peer.commitSent) {
    peer.commitSent = true;
    send({ type: 'commit', to: id, commitment: state.commitment });
  }
}

async function onCommit(from, commitment) {
  const peer = peerOf(from);
  if (peer.commitment) return; // a peer commits once per visit
  peer.commitment = commitment;
  sendCommit(from, peer);
  // our key goes to a peer only once we hold its commitment (see keys.js)
  if (!peer.revealed) {
    peer.revealed = true;
    send({ type: 'reveal', to: from, publicKey: b64(state.identity.publicKey) });
  }
}

async function onReveal(from, publicKey) {
  const peer = peerOf(from);
  const key = unb64(publicKey);
  if (!peer.commitment || peer.publicKey || (await commitmentOf(key)) !== peer.commitment) {
    status('A participant\'s key did not match its commitment: the visit may be intercepted.');
    return;
  }
  peer.publicKey = key;
  peer.wrapKey = await pairKey(state.identity, key);
  renderParticipants();
  await renderSas();
  status('Keys exchanged. Read the digits aloud: everyone must see the same ones.');
  if (state.sender) await sendSenderKey(from, peer);
}

async function onSenderKey(from, { kid, iv, wrapped }) {
  const peer = state.peers.get(from);
  if (!peer?.wrapKey) return;
  try {
    const key = await unwrapSenderKey(peer.wrapKey, peer.publicKey, state.identity.publicKey, kid, iv, wrapped);
    state.worker.postMessage({ type: 'recv-key', peer: from, kid, key });
    setEncrypted(true);
  } catch (e) {
    status('A sender key could not be opened and was ignored.');
  }
}

// --- media --------------------------------------------------------------------------------------

function preferVp8(transceiver) {
  // VP8's payload header is what the worker leaves in clear; other codecs need their own layout.
  const codecs = RTCRtpReceiver.getCapabilities?.('video')?.codecs ?? [];
  const vp8 = codecs.filter((c) => c.mimeType.toLowerCase() === 'video/vp8');
  if (vp8.length && transceiver.setCodecPreferences) {
    transceiver.setCodecPreferences([...vp8, ...codecs.filter((c) => c.mimeType.toLowerCase() !== 'video/vp8'
      && !/^video\/(h264|vp9|av1|h265)$/i.test(c.mimeType))]);
  }
}

function connection(id) {
  const peer = peerOf(id);
  if (peer.pc) return peer.pc;
  const pc = new RTCPeerConnection({ iceServers: state.iceServers.map((urls) => ({ urls })) });
  peer.pc = pc;
  for (const track of state.stream.getTracks()) {
    const sender = pc.addTrack(track, state.stream);
    sender.transform = new RTCRtpScriptTransform(state.worker, { side: 'send' });
    const transceiver = pc.getTransceivers().find((t) => t.sender === sender);
    // the receiver of the same transceiver decrypts: set before any frame can arrive
    transceiver.receiver.transform = new RTCRtpScriptTransform(state.worker, { side: 'recv', peer: id });
    if (track.kind === 'video') preferVp8(transceiver);
  }
  pc.ontrack = (event) => {
    if (!event.receiver.transform) {
      event.receiver.transform = new RTCRtpScriptTransform(state.worker, { side: 'recv', peer: id });
    }
    if (!peer.video) {
      const figure = document.createElement('figure');
      peer.video = document.createElement('video');
      peer.video.autoplay = true;
      peer.video.playsInline = true;
      const caption = document.createElement('figcaption');
      caption.textContent = peer.role;
      figure.append(peer.video, caption);
      figure.dataset.participant = id;
      $('videos').append(figure);
    }
    peer.video.srcObject = event.streams[0];
  };
  pc.onconnectionstatechange = () => { $('status').dataset.connection = pc.connectionState; };
  pc.onicecandidate = (event) => {
    if (event.candidate) {
      send({ type: 'ice', to: id, candidate: event.candidate.candidate, sdpMid: event.candidate.sdpMid,
        sdpMLineIndex: event.candidate.sdpMLineIndex });
    }
  };
  return pc;
}

async function offer(id) {
  const pc = connection(id);
  await pc.setLocalDescription(await pc.createOffer());
  send({ type: 'offer', to: id, sdp: pc.localDescription.sdp });
}

async function onOffer(from, sdp) {
  const pc = connection(from);
  await pc.setRemoteDescription({ type: 'offer', sdp });
  await flushIce(from);
  await pc.setLocalDescription(await pc.createAnswer());
  send({ type: 'answer', to: from, sdp: pc.localDescription.sdp });
}

async function onAnswer(from, sdp) {
  const peer = state.peers.get(from);
  if (!peer?.pc) return;
  await peer.pc.setRemoteDescription({ type: 'answer', sdp });
  await flushIce(from);
}

async function onIce(from, message) {
  const peer = peerOf(from);
  const candidate = { candidate: message.candidate, sdpMid: message.sdpMid, sdpMLineIndex: message.sdpMLineIndex };
  if (peer.pc?.remoteDescription) await peer.pc.addIceCandidate(candidate); else peer.pendingIce.push(candidate);
}

async function flushIce(id) {
  const peer = state.peers.get(id);
  for (const candidate of peer.pendingIce.splice(0)) await peer.pc.addIceCandidate(candidate);
}

function forget(id) {
  const peer = state.peers.get(id);
  if (!peer) return;
  peer.pc?.close();
  document.querySelector(`figure[data-participant="${id}"]`)?.remove();
  state.peers.delete(id);
  state.worker.postMessage({ type: 'forget-peer', peer: id });
  renderParticipants();
}

// --- signaling ----------------------------------------------------------------------------------

async function onMessage(message) {
  switch (message.type) {
    case 'welcome': {
      state.me = message.you;
      state.role = message.role;
      state.iceServers = message.iceServers ?? [];
      $('end').hidden = state.role !== 'clinician';
      $('end').disabled = state.role !== 'clinician';
      await rotateSenderKey(0);
      state.rotation = setInterval(() => rotateSenderKey(1000), message.keyRotationSeconds * 1000);
      for (const p of message.participants) {
        const peer = peerOf(p.id, p.role);
        sendCommit(p.id, peer);
        await offer(p.id);
      }
      renderParticipants();
      status('Joined. Compare the digits aloud once someone else is here.');
      break;
    }
    case 'joined': {
      const peer = peerOf(message.id, message.role);
      sendCommit(message.id, peer);
      await rotateSenderKey(1000); // someone new: a key they never saw the media of
      break;
    }
    case 'left':
      forget(message.id);
      await rotateSenderKey(0); // whoever left cannot open anything sent from now on
      await renderSas();
      break;
    case 'commit': await onCommit(message.from, message.commitment); break;
    case 'reveal': await onReveal(message.from, message.publicKey); break;
    case 'sender-key': await onSenderKey(message.from, message); break;
    case 'offer': await onOffer(message.from, message.sdp); break;
    case 'answer': await onAnswer(message.from, message.sdp); break;
    case 'ice': await onIce(message.from, message); break;
    case 'ended': status('The visit has ended.'); hangUp(); break;
    default: break;
  }
}

function hangUp() {
  clearInterval(state.rotation);
  for (const id of [...state.peers.keys()]) forget(id);
  state.stream?.getTracks().forEach((t) => t.stop());
  state.socket?.close(1000);
  setEncrypted(false);
  for (const b of ['camera', 'microphone', 'leave', 'end']) $(b).disabled = true;
}

async function join() {
  $('join').disabled = true;
  status('Starting camera and microphone…');
  state.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
  $('local').srcObject = state.stream;
  state.identity = await newIdentity();
  state.commitment = await commitmentOf(state.identity.publicKey);
  state.worker = new Worker('/telehealth/static/e2ee-worker.js', { type: 'module', name: 'e2ee' });
  state.worker.onmessage = ({ data }) => {
    if (data.type !== 'stats') return;
    $('encrypted').textContent = String(data.encrypted);
    $('decrypted').textContent = String(data.decrypted);
    $('failed').textContent = String(data.failed);
    $('send-kid').textContent = data.sendKid ?? '—';
    $('known-kids').textContent = Object.values(data.known).flat().join(' ') || '—';
  };
  // Carapace serves HTTPS only (wss); plain ws is for a page reached through a local test relay
  const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/telehealth/signal`);
  state.socket = socket;
  let queue = Promise.resolve();
  socket.onopen = () => socket.send(JSON.stringify(secret.has('ticket')
    ? { type: 'hello', ticket: secret.get('ticket') } : { type: 'hello', link: secret.get('link') }));
  // one message at a time, in order: key exchange and negotiation depend on it
  socket.onmessage = (event) => {
    // an error's name only: a message could carry part of an SDP
    queue = queue.then(() => onMessage(JSON.parse(event.data))).catch((e) => console.warn('signaling step failed:', e.name));
  };
  socket.onclose = (event) => {
    $('status').dataset.closed = String(event.code);
    status(event.code === 1000 ? 'You have left the visit.' : `The visit connection was refused or lost (${event.code}).`);
    hangUp();
  };
  for (const b of ['camera', 'microphone', 'leave']) $(b).disabled = false;
}

function toggle(kind, button, label) {
  const tracks = state.stream?.getTracks().filter((t) => t.kind === kind) ?? [];
  const on = !(tracks[0]?.enabled ?? true);
  tracks.forEach((t) => { t.enabled = on; });
  button.setAttribute('aria-pressed', String(on));
  button.textContent = `${label} ${on ? 'on' : 'off'}`;
}

if (!supported()) {
  $('unsupported').hidden = false;
  status('This browser cannot encrypt media end to end; nothing will be sent.');
} else if (!secret.has('ticket') && !secret.has('link')) {
  status('Open the link you were given for the visit.');
} else {
  $('join').disabled = false;
  $('join').addEventListener('click', () => join().catch(() => status('Could not start the camera or the connection.')));
  $('camera').addEventListener('click', () => toggle('video', $('camera'), 'Camera'));
  $('microphone').addEventListener('click', () => toggle('audio', $('microphone'), 'Microphone'));
  $('leave').addEventListener('click', () => { send({ type: 'bye' }); hangUp(); });
  $('end').addEventListener('click', () => send({ type: 'end' }));
}
