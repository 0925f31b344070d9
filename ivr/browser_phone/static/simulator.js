// The browser phone's page: place a call, follow it live, talk, press keys, type, hang up.
//
// The call's events arrive as server-sent events (the pipeline's turns and records, the bot's
// words, the caller's partial words, and Twilio's side: webhooks, <Say>, <Dial>); a "stream"
// event opens the Media Stream (stream.js) the way Twilio opens one after <Connect><Stream>.

import { LineStream, PhoneAudio } from "./stream.js";

const body = document.body;
const $ = (id) => document.getElementById(id);

const call = { id: null, audio: null, stream: null, events: null, log: [], over: true, pending: null };
window.browserPhone = call; // for a developer's console (and the tests)

async function post(url, payload) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(payload || {}),
    keepalive: true, // a hang-up as the tab closes still arrives
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer;
}

function line(kind, who, text, details) {
  const item = document.createElement("li");
  item.className = `entry ${kind}`;
  item.dataset.kind = kind;
  const label = document.createElement("span");
  label.className = "who";
  label.textContent = who;
  const words = document.createElement("span");
  words.className = "text";
  words.textContent = text;
  item.append(label, words);
  if (details) addDetails(item, details);
  $("transcript").append(item);
  item.scrollIntoView({ block: "nearest" });
  return item;
}

function addDetails(item, text) {
  const more = document.createElement("span");
  more.className = "details";
  more.textContent = text;
  item.append(more);
}

function setState(text) { $("call-state").textContent = text; }

function setLive(live) {
  $("call").disabled = live;
  $("hangup").disabled = !live;
  document.querySelectorAll("#keypad button").forEach((b) => { b.disabled = !live; });
  $("typed").disabled = !live;
  $("send-typed").disabled = !live;
  $("download-audio").disabled = live || !call.audio;
  $("download-transcript").disabled = live || call.log.length === 0;
}

function timings(latency) {
  const names = { end_of_turn: "end of turn", asr: "recognition", nlu: "NLU", tts: "voice", send: "first audio" };
  return Object.entries(names)
    .filter(([key]) => latency[key] !== undefined)
    .map(([key, name]) => `${name} ${Math.round(latency[key])} ms`).join(" · ");
}

const show = {
  said: (d) => line("bot", "Bot", d.text),
  partial: (d) => {
    $("partial").textContent = d.text ? `Hearing: ${d.text}…` : "";
    body.dataset.partials = String(Number(body.dataset.partials || 0) + 1);
  },
  heard: (d) => {
    // The caller's words as soon as they are settled; the turn's details follow.
    $("partial").textContent = "";
    call.pending = line(`caller turn-${d.kind}`, d.kind === "typed" ? "You (typed)" : "You", d.text);
  },
  step: (d) => { $("step").textContent = d.step || "–"; },
  turn: (d) => {
    const intent = d.intent ? `${d.intent} ${(d.confidence ?? 0).toFixed(2)}` : "no intent";
    const details = [intent, d.decision && `decision: ${d.decision}`, timings(d.latency_ms || {})]
      .filter(Boolean).join(" · ");
    let item = call.pending;
    call.pending = null;
    if (!item) {
      const who = d.kind === "dtmf" ? "You (keys)" : d.kind === "silence" ? "Silence" : "You";
      item = line(`caller turn-${d.kind}`, who, d.text || "…");
    }
    addDetails(item, details);
    item.dataset.intent = d.intent || "";
  },
  event: (d) => {
    const data = d.data || {};
    const marker = {
      barge_in: () => `You spoke over the bot: it stopped (${data.by})`,
      handover: () => `Hand-over: ${data.kind} ${data.queue ? `to ${data.queue} ` : ""}(${data.reason})`,
      callback_booked: () => `Callback booked for ${data.at} (${data.queue})`,
      callback_offered: () => `Callback offered (${data.reason})`,
      dial: () => `Ringing ended: ${data.outcome}`,
      failure: () => `Failure: ${data.reason}`,
      no_words: () => "Speech without words",
    }[d.kind];
    if (marker) line(`marker ${d.kind}`, "Line", marker());
  },
  webhook: (d) => line("network webhook", "Twilio", `${d.purpose} → ${d.path}`, `${d.status ?? "no answer"} in ${d.ms} ms`),
  network_said: (d) => line("network said", "Twilio says", d.text),
  dialling: (d) => { setState(`Ringing ${d.numbers.join(", ")}…`); line("network dial", "Twilio", `Dialling ${d.numbers.join(", ")}`); },
  dialled: (d) => line("network dialled", "Agent",
    `${d.number}: ${d.outcome || "the caller hung up first"}${d.bridged ? ", connected to you" : ""}`,
    d.whisper.length ? `whisper: ${d.whisper.join(" ")}` : ""),
  stream: (d) => openStream(d),
  call_ended: (d) => endCall(d),
};

function onEvent(kind, data) {
  call.log.push({ at: new Date().toISOString(), kind, ...data });
  (show[kind] || (() => {}))(data);
}

function openStream(d) {
  const stream = new LineStream(call.audio, {
    path: d.path, pass: d.pass, passParameter: body.dataset.passParameter,
    streamSid: d.stream_sid, callSid: call.id, accountSid: d.account_sid, parameters: d.parameters,
  });
  const count = (name) => { body.dataset[name] = String(Number(body.dataset[name] || 0) + 1); };
  stream.onmessage = (event) => {
    // Counters a test (or a curious developer) can read: audio received, marks played, clears.
    if (event === "media") count("audioChunks");
    if (event === "played") count("marksPlayed");
    if (event === "clear") count("clears"); // the line told the page to stop talking
    if (event === "speaking" || event === "quiet") setState(event === "speaking" ? "The bot is speaking." : "Listening.");
  };
  stream.onclose = () => {
    if (call.stream === stream) call.stream = null;
    if (!call.over) post(`${body.dataset.callsUrl}/${call.id}/stream-ended`).catch(() => {});
  };
  call.stream = stream;
  count("streams");
  stream.open();
  setState("Connected.");
}

async function startCall(event) {
  event.preventDefault();
  $("transcript").replaceChildren();
  call.log = [];
  ["clears", "streams", "audioChunks", "marksPlayed"].forEach((name) => { body.dataset[name] = "0"; });
  const microphone = !$("text-only").checked;
  $("call").disabled = true; // one call at a time, however often it is clicked
  if (call.audio) { call.audio.close(); call.audio = null; }
  try {
    setState(microphone ? "Asking for the microphone…" : "Calling (text only)…");
    const echoCancellation = !$("headphones").checked;
    call.audio = await PhoneAudio.start(body.dataset.workletUrl, { microphone, echoCancellation });
    const placed = await post(body.dataset.callsUrl, {
      caller: $("caller").value, called: $("called").value, agents: $("agents").value,
      clock_offset_hours: $("clock-offset").value, text_only: !microphone,
    });
    call.id = placed.call_id;
    call.over = false;
    body.dataset.callId = call.id;
    $("call-id").textContent = `${call.id} · the line's clock: ${placed.clock.slice(0, 16).replace("T", " ")}`;
    call.events = new EventSource(placed.events);
    Object.keys(show).forEach((kind) => call.events.addEventListener(kind, (e) => onEvent(kind, JSON.parse(e.data))));
    call.events.onerror = () => {
      if (call.events.readyState !== EventSource.CLOSED || call.over) return;
      hangUp(); // the call can no longer be followed: end it rather than look live
      endCall({ status: "lost", errors: ["the connection to the server dropped"] });
    };
    setState("Ringing the line…");
    setLive(true);
  } catch (error) {
    setState(`Could not call: ${error.message}`);
    $("call").disabled = false;
    if (call.audio) { call.audio.close(); call.audio = null; }
  }
}

function endCall(d) {
  call.over = true;
  if (call.stream) call.stream.stop();
  if (call.events) call.events.close();
  if (call.audio && call.audio.media) call.audio.media.getTracks().forEach((track) => track.stop());
  setState(`Call ended (${d.status}).${d.errors && d.errors.length ? " " + d.errors.join("; ") : ""}`);
  body.dataset.ended = d.status;
  setLive(false);
}

async function hangUp() {
  if (!call.id) return;
  call.over = true;
  if (call.stream) call.stream.stop();
  await post(`${body.dataset.callsUrl}/${call.id}/hangup`).catch(() => {});
}

async function sendTyped(event) {
  event.preventDefault();
  const text = $("typed").value.trim();
  if (!text || !call.id) return;
  try {
    await post(`${body.dataset.callsUrl}/${call.id}/typed`, { text });
    $("typed").value = "";
  } catch (error) {
    setState(error.message);
  }
}

function press(key) {
  if (!call.stream) return;
  call.stream.press(key);
  const last = $("transcript").lastElementChild;
  if (last && last.dataset.kind === "caller key") {
    last.querySelector(".text").textContent += ` ${key}`; // one line for a run of keys
  } else {
    line("caller key", "You pressed", key);
  }
}

function download(blob, name) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

async function refreshStatus() {
  try {
    const status = await (await fetch(body.dataset.statusUrl)).json();
    const nlu = { ready: "NLU ready", retraining: "NLU retraining…", starting: "NLU starting…", unavailable: "NLU unavailable" };
    $("nlu-state").textContent = nlu[status.nlu] || status.nlu;
    $("nlu-state").dataset.state = status.nlu;
    $("flow-refused").hidden = status.refused.length === 0;
    $("flow-problems").replaceChildren(...status.refused.map((problem) => {
      const item = document.createElement("li");
      item.textContent = problem;
      return item;
    }));
  } catch { /* the server is restarting: try again next time */ }
}

$("dial").addEventListener("submit", startCall);
$("hangup").addEventListener("click", hangUp);
$("type-line").addEventListener("submit", sendTyped);
document.querySelectorAll("#keypad button").forEach((b) => b.addEventListener("click", () => press(b.dataset.key)));
document.addEventListener("keydown", (event) => {
  const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
  if (!typing && call.stream && /^[0-9*#]$/.test(event.key)) press(event.key);
});
$("download-audio").addEventListener("click", () => download(call.audio.wav(), `call-${call.id}.wav`));
$("download-transcript").addEventListener("click", () => download(
  new Blob([JSON.stringify({ call_id: call.id, events: call.log }, null, 2)], { type: "application/json" }),
  `call-${call.id}.json`));
window.addEventListener("beforeunload", () => { if (!call.over) hangUp(); });
refreshStatus();
setInterval(refreshStatus, 2000);
