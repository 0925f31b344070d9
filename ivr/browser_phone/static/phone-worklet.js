// The browser phone's audio, on the audio thread.
//
// caller-capture: the microphone at the context's rate -> 8 kHz, G.711 mu-law, 20 ms frames
//   (160 bytes), posted to the page as they fill: what Twilio's media messages carry.
// bot-playback: the bot's audio (8 kHz samples) played in order; a mark is posted back when
//   the audio queued before it has really played; "clear" drops everything queued at once and
//   posts the marks it dropped, as Twilio echoes them.

const FRAME_BYTES = 160;
const LINE_RATE = 8000;

function muLawEncode(sample) {
  // G.711 mu-law of one sample in [-1, 1] (the classic bias-and-segment encoder).
  const BIAS = 0x84, CLIP = 32635;
  let pcm = Math.max(-1, Math.min(1, sample)) * 32767;
  const sign = pcm < 0 ? 0x80 : 0;
  if (sign) pcm = -pcm;
  pcm = Math.min(CLIP, Math.round(pcm)) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (pcm & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (pcm >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

class CallerCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / LINE_RATE; // input samples per line sample
    this.position = 0;                  // where the next line sample falls in the input
    this.frame = new Uint8Array(FRAME_BYTES);
    this.filled = 0;
  }

  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true;
    // Average the input samples each line sample stands for (a box filter against aliasing).
    while (this.position + this.step <= input.length) {
      // The window may start in the previous block (position < 0): use what this one has.
      const start = Math.max(0, Math.floor(this.position));
      const end = Math.max(start + 1, Math.floor(this.position + this.step));
      let sum = 0;
      for (let i = start; i < end; i++) sum += input[i];
      const sample = sum / (end - start);
      this.frame[this.filled++] = muLawEncode(sample);
      if (this.filled === FRAME_BYTES) {
        this.port.postMessage(this.frame);
        this.frame = new Uint8Array(FRAME_BYTES);
        this.filled = 0;
      }
      this.position += this.step;
    }
    this.position -= input.length;
    return true;
  }
}

class BotPlayback extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = []; // {samples: Float32Array, offset} or {mark: name}
    this.playing = false;
    this.port.onmessage = (event) => this.receive(event.data);
  }

  receive(message) {
    if (message.type === "audio") this.queue.push({ samples: message.samples, offset: 0 });
    else if (message.type === "mark") this.queue.push({ mark: message.name });
    else if (message.type === "clear") {
      const dropped = this.queue.filter((item) => item.mark !== undefined).map((item) => item.mark);
      this.queue = [];
      this.port.postMessage({ type: "cleared", marks: dropped });
    }
  }

  process(_inputs, outputs) {
    const output = outputs[0][0];
    let written = 0;
    while (written < output.length && this.queue.length) {
      const item = this.queue[0];
      if (item.mark !== undefined) {
        this.queue.shift();
        this.port.postMessage({ type: "played", mark: item.mark });
        continue;
      }
      const count = Math.min(output.length - written, item.samples.length - item.offset);
      output.set(item.samples.subarray(item.offset, item.offset + count), written);
      written += count;
      item.offset += count;
      if (item.offset >= item.samples.length) this.queue.shift();
    }
    output.fill(0, written);
    for (let channel = 1; channel < outputs[0].length; channel++) outputs[0][channel].set(output);
    const playing = written > 0;
    if (playing !== this.playing) {
      this.playing = playing;
      this.port.postMessage({ type: playing ? "speaking" : "quiet" });
    }
    return true;
  }
}

registerProcessor("caller-capture", CallerCapture);
registerProcessor("bot-playback", BotPlayback);
