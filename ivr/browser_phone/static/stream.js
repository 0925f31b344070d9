// One Media Stream from the browser, speaking Twilio's protocol to the line's own socket.
//
//   const stream = new LineStream(audio, {path, pass, passParameter, streamSid, callSid, ...});
//   stream.onclose = () => ...;  stream.open();  stream.press("0");  stream.stop();
//
// Sends connected, start (with the TwiML's custom parameters), media every 20 ms, dtmf, mark
// echoes and stop; receives media (played in order), mark (echoed once played) and clear
// (playback dropped at once, its marks echoed).

const MEDIA_FORMAT = { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 };

export function muLawDecode(byte) {
  const value = ~byte & 0xff;
  const sign = value & 0x80, exponent = (value >> 4) & 0x07, mantissa = value & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return (sign ? -magnitude : magnitude) / 32768;
}

function toBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
  return btoa(text);
}

function fromBase64(text) {
  const raw = atob(text), bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

// The call's audio device: capture and playback worklets, and a recording of both sides.
export class PhoneAudio {
  static async start(workletUrl, { microphone, echoCancellation }) {
    // Echo cancellation keeps the bot's own voice from the speakers out of the microphone
    // (it would interrupt the bot as if the caller spoke); with headphones it only alters
    // what the line hears.
    const media = microphone
      ? await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation, noiseSuppression: false, autoGainControl: false },
      })
      : null;
    // The line's own rate when the browser can take the microphone at it (Chromium can);
    // otherwise the device's rate, and the worklets convert (Firefox).
    let context;
    try {
      context = new AudioContext({ sampleRate: 8000 });
      if (media) context.createMediaStreamSource(media).disconnect();
    } catch {
      if (context) context.close();
      context = new AudioContext();
    }
    await context.audioWorklet.addModule(workletUrl);
    let source;
    if (media) {
      source = context.createMediaStreamSource(media);
    } else {
      source = new ConstantSourceNode(context, { offset: 0 }); // silence keeps the line's clock
      source.start();
    }
    return new PhoneAudio(context, source, media);
  }

  constructor(context, source, media) {
    this.context = context;
    this.media = media;
    this.capture = new AudioWorkletNode(context, "caller-capture");
    this.playback = new AudioWorkletNode(context, "bot-playback", { outputChannelCount: [1] });
    source.connect(this.capture);
    this.playback.connect(context.destination);
    this.callerTrack = [];  // mu-law bytes, 20 ms at a time
    this.botTrack = [];     // per caller frame: the bot's bytes that started in it
    this.cuts = new Set();  // caller frames at which the bot's queued audio was dropped
    this.onframe = null;
    this.capture.port.onmessage = (event) => {
      this.callerTrack.push(event.data);
      this.botTrack.push(null);
      if (this.onframe) this.onframe(event.data);
    };
  }

  play(bytes) {
    const samples = new Float32Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) samples[i] = muLawDecode(bytes[i]);
    this.playback.port.postMessage({ type: "audio", samples: this.resample(samples) });
    const at = Math.max(0, this.botTrack.length - 1);
    this.botTrack[at] = this.botTrack[at] ? concat(this.botTrack[at], bytes) : bytes;
  }

  // The bot's audio still queued was dropped (barge-in): the recording drops it too.
  cleared() {
    this.cuts.add(this.callerTrack.length);
  }

  resample(samples) {
    const ratio = this.context.sampleRate / 8000;
    if (ratio === 1) return samples;
    const out = new Float32Array(Math.floor(samples.length * ratio));
    for (let i = 0; i < out.length; i++) {
      const x = i / ratio, left = Math.floor(x), right = Math.min(left + 1, samples.length - 1);
      out[i] = samples[left] + (samples[right] - samples[left]) * (x - left);
    }
    return out;
  }

  // A stereo WAV of the call as heard here: the caller left, the bot right (8 kHz, 16 bit).
  wav() {
    const frames = this.callerTrack.length * 160;
    const left = new Int16Array(frames), right = new Int16Array(frames + 8000 * 60);
    this.callerTrack.forEach((frame, f) => frame.forEach((b, i) => { left[f * 160 + i] = muLawDecode(b) * 32767; }));
    let cursor = 0;
    this.botTrack.forEach((bytes, f) => {
      if (this.cuts.has(f) && cursor > f * 160) {
        right.fill(0, f * 160, cursor);
        cursor = f * 160;
      }
      if (!bytes) return;
      cursor = Math.max(cursor, f * 160);
      bytes.forEach((b) => { if (cursor < right.length) right[cursor++] = muLawDecode(b) * 32767; });
    });
    const samples = Math.max(frames, Math.min(cursor, right.length));
    const data = new DataView(new ArrayBuffer(44 + samples * 4));
    const text = (at, s) => [...s].forEach((c, i) => data.setUint8(at + i, c.charCodeAt(0)));
    text(0, "RIFF"); data.setUint32(4, 36 + samples * 4, true); text(8, "WAVEfmt ");
    data.setUint32(16, 16, true); data.setUint16(20, 1, true); data.setUint16(22, 2, true);
    data.setUint32(24, 8000, true); data.setUint32(28, 32000, true);
    data.setUint16(32, 4, true); data.setUint16(34, 16, true);
    text(36, "data"); data.setUint32(40, samples * 4, true);
    for (let i = 0; i < samples; i++) {
      data.setInt16(44 + i * 4, left[i] || 0, true);
      data.setInt16(46 + i * 4, right[i] || 0, true);
    }
    return new Blob([data.buffer], { type: "audio/wav" });
  }

  close() {
    if (this.media) this.media.getTracks().forEach((track) => track.stop());
    this.context.close();
  }
}

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a); out.set(b, a.length);
  return out;
}

export class LineStream {
  constructor(audio, start) {
    this.audio = audio;
    this.start = start; // {path, pass, passParameter, streamSid, callSid, accountSid, parameters}
    this.sequence = 0;
    this.chunk = 0;
    this.ws = null;
    this.stopped = false;
    this.onclose = null;
    this.onmessage = null; // (event, detail): what the page shows
  }

  open() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = `${this.start.passParameter}=${encodeURIComponent(this.start.pass)}`;
    this.ws = new WebSocket(`${scheme}//${location.host}${this.start.path}?${query}`);
    this.ws.onopen = () => {
      this.send({ event: "connected", protocol: "Call", version: "1.0.0" });
      this.send({
        event: "start",
        start: {
          streamSid: this.start.streamSid, accountSid: this.start.accountSid,
          callSid: this.start.callSid, tracks: ["inbound"],
          customParameters: this.start.parameters, mediaFormat: MEDIA_FORMAT,
        },
      });
      this.audio.onframe = (frame) => this.media(frame);
    };
    this.ws.onmessage = (message) => this.receive(JSON.parse(message.data));
    this.ws.onclose = () => {
      this.audio.onframe = null;
      // Audio still queued belongs to this stream: drop it (its marks die with the socket).
      this.audio.playback.port.postMessage({ type: "clear" });
      if (this.onclose) this.onclose();
    };
    this.audio.playback.port.onmessage = (event) => this.playbackEvent(event.data);
  }

  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    if (message.event !== "connected") {
      this.sequence += 1;
      message.sequenceNumber = String(this.sequence);
      message.streamSid = this.start.streamSid;
    }
    this.ws.send(JSON.stringify(message));
  }

  media(frame) {
    this.chunk += 1;
    this.send({
      event: "media",
      media: { track: "inbound", chunk: String(this.chunk), timestamp: String(this.chunk * 20), payload: toBase64(frame) },
    });
  }

  press(digit) {
    this.send({ event: "dtmf", dtmf: { track: "inbound_track", digit } });
  }

  stop() {
    if (this.stopped) return;
    this.stopped = true;
    this.send({ event: "stop", stop: { accountSid: this.start.accountSid, callSid: this.start.callSid } });
    if (this.ws) this.ws.close();
  }

  receive(message) {
    if (message.event === "media") {
      this.audio.play(fromBase64(message.media.payload));
    } else if (message.event === "mark") {
      this.audio.playback.port.postMessage({ type: "mark", name: message.mark.name });
    } else if (message.event === "clear") {
      this.audio.playback.port.postMessage({ type: "clear" });
    }
    if (this.onmessage) this.onmessage(message.event, message);
  }

  playbackEvent(data) {
    if (data.type === "played") {
      this.echo(data.mark);
      if (this.onmessage) this.onmessage("played", data);
    } else if (data.type === "cleared") {
      this.audio.cleared();
      data.marks.forEach((name) => this.echo(name));
      if (this.onmessage) this.onmessage("cleared", data);
    } else if (this.onmessage) this.onmessage(data.type, data);
  }

  echo(name) {
    this.send({ event: "mark", mark: { name } });
  }
}
