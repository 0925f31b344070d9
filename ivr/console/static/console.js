// Keeps the console live with server-sent events: the calls board, an agent's phone ringing
// (on every page), and a call page's transcript. Pages work without it; this only updates them.
"use strict";

(function () {
  const body = document.body;
  const liveUrl = body.dataset.liveUrl;
  const callUrl = body.dataset.callUrl || "";

  function cell(text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text == null ? "" : String(text);
    return td;
  }

  function clock(seconds) {
    const s = Math.max(0, seconds | 0);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function callLink(callId) {
    return callUrl.replace("CALL_ID", encodeURIComponent(callId));
  }

  // --- the calls board ------------------------------------------------------------------
  function showCalls(calls) {
    const table = document.getElementById("live-calls");
    if (!table) return;
    const tbody = table.tBodies[0];
    tbody.replaceChildren();
    if (calls.length === 0) {
      const row = tbody.insertRow();
      row.className = "empty";
      const td = cell("No calls right now.", "muted");
      td.colSpan = 5;
      row.appendChild(td);
    }
    for (const call of calls) {
      const row = tbody.insertRow();
      row.dataset.call = call.call_id;
      const who = document.createElement("td");
      const link = document.createElement("a");
      link.href = callLink(call.call_id);
      link.textContent = call.caller || "unknown number";
      who.appendChild(link);
      row.appendChild(who);
      const where = document.createElement("td");
      const pill = document.createElement("span");
      pill.className = "pill " + (call.stage || "");
      pill.textContent = call.stage_text;
      where.appendChild(pill);
      if (call.step) {
        const step = document.createElement("span");
        step.className = "muted step";
        step.textContent = " at " + call.step;
        where.appendChild(step);
      }
      row.appendChild(where);
      row.appendChild(cell(call.intent || "—"));
      row.appendChild(cell(clock(call.seconds), "num"));
      row.appendChild(cell(call.last_words || ""));
    }
    const count = document.getElementById("calls-count");
    if (count) count.textContent = String(calls.length);
  }

  // --- the phone ringing ----------------------------------------------------------------
  let ringingFor = null;
  function showRinging(ringing) {
    const alert = document.getElementById("ringing");
    if (!alert) return;
    if (!ringing) {
      alert.classList.remove("on");
      ringingFor = null;
      return;
    }
    if (ringingFor === ringing.call_id) return;
    ringingFor = ringing.call_id;
    const link = callLink(ringing.call_id);
    if (new URL(link, window.location.href).pathname === window.location.pathname) return; // already open
    document.getElementById("ringing-whisper").textContent = ringing.whisper;
    const open = document.getElementById("ringing-open");
    open.href = link;
    alert.classList.add("on");
    open.focus(); // Enter opens the call page at once
  }

  // Each open stream holds a server thread: open one only where it shows something (the
  // board, or an agent's ringing phone); the wall screen reloads itself instead.
  const wanted = body.dataset.role === "agent" || document.getElementById("live-calls");
  if (liveUrl && wanted) {
    const source = new EventSource(liveUrl);
    source.addEventListener("calls", (event) => {
      showCalls(JSON.parse(event.data));
      const status = document.getElementById("live-status");
      if (status) status.textContent = "Updating live";
    });
    source.addEventListener("ringing", (event) => showRinging(JSON.parse(event.data)));
    source.addEventListener("problem", (event) => {
      const status = document.getElementById("live-status");
      if (status) status.textContent = JSON.parse(event.data).text;
    });
  }

  // --- a call page's transcript ---------------------------------------------------------
  const holder = document.querySelector("[data-events]");
  const transcript = document.getElementById("transcript");
  if (holder && transcript) {
    const after = transcript.dataset.after || "-1";
    const source = new EventSource(holder.dataset.events + "?after=" + encodeURIComponent(after));
    let shown = Number(after);
    source.addEventListener("turn", (event) => {
      const turn = JSON.parse(event.data);
      if (turn.index <= shown) return; // already on the page (a reconnect sends from its last id)
      shown = turn.index;
      const tbody = transcript.tBodies[0];
      const empty = tbody.querySelector("tr.empty");
      if (empty) empty.remove();
      const row = tbody.insertRow();
      row.dataset.turn = String(turn.index);
      row.appendChild(cell(turn.index + 1, "num"));
      const said =
        turn.kind === "speech" ? "“" + turn.text + "”" : turn.kind === "dtmf" ? "pressed " + turn.text : "(" + turn.kind + ")";
      row.appendChild(cell(said, "said"));
      row.appendChild(cell((turn.intent || "—") + (turn.decision ? " · " + turn.decision : "")));
      row.appendChild(cell(turn.confidence == null ? "—" : turn.confidence.toFixed(2), "num confidence hide-narrow"));
      row.appendChild(cell(turn.bot.join(", "), "bot hide-narrow"));
    });
    source.addEventListener("stage", (event) => {
      const stage = JSON.parse(event.data);
      const pill = document.getElementById("call-stage");
      if (pill) {
        pill.className = "pill " + (stage.stage || "");
        pill.textContent = stage.text;
      }
    });
  }
})();
