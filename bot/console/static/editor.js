// Dialog editor: line numbers, lint as the admin types (debounced), and the simulator chat.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const source = document.getElementById("source");
  const gutter = document.getElementById("gutter");
  const status = document.getElementById("lint-status");
  const list = document.getElementById("lint-errors");
  const publish = document.getElementById("publish");
  let bad = new Set();
  let timer = null;
  let seq = 0;

  async function post(url, body) {
    const resp = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body),
    });
    return [resp.status, await resp.json()];
  }

  function drawGutter() {
    const n = source.value.split("\n").length;
    const out = [];
    for (let i = 1; i <= n; i++) out.push(bad.has(i) ? `! ${i}` : String(i));
    gutter.textContent = out.join("\n");
    gutter.scrollTop = source.scrollTop;
  }

  async function lint() {
    const mine = ++seq;
    const [, body] = await post("/dialogs/lint", {source: source.value});
    if (mine !== seq) return; // a newer check is on its way
    bad = new Set(body.errors.map((e) => e.line));
    list.replaceChildren();
    for (const e of body.errors) {
      const li = document.createElement("li");
      li.dataset.line = e.line;
      li.textContent = T("line", {line: e.line, message: e.message});
      li.addEventListener("click", () => goToLine(e.line));
      list.append(li);
    }
    status.textContent = body.ok ? T("No problems", {version: body.version}) : T("problems", {n: body.errors.length});
    status.className = body.ok ? "lint ok" : "lint bad";
    publish.disabled = !body.ok;
    drawGutter();
  }

  function goToLine(line) {
    const lines = source.value.split("\n");
    const start = lines.slice(0, line - 1).join("\n").length + (line > 1 ? 1 : 0);
    source.focus();
    source.setSelectionRange(start, start + lines[line - 1].length);
  }

  source.addEventListener("input", () => {
    drawGutter();
    clearTimeout(timer);
    timer = setTimeout(lint, 350);
  });
  source.addEventListener("scroll", () => { gutter.scrollTop = source.scrollTop; });
  drawGutter();
  lint();

  // ---- simulator
  const log = document.getElementById("sim-log");
  const answer = document.getElementById("sim-answer");
  const send = document.getElementById("sim-send");
  const result = document.getElementById("sim-result");
  let chat = null;

  function show(lines) {
    for (const l of lines) {
      const li = document.createElement("li");
      li.className = `chat-${l.who}`;
      li.textContent = l.who === "system" ? l.text : `${T(l.who)}：${l.text}`;
      log.append(li);
    }
    log.scrollTop = log.scrollHeight;
  }

  function finish(state) {
    if (!state.finished) return;
    chat = null;
    answer.disabled = send.disabled = true;
    result.hidden = false;
    result.replaceChildren();
    const record = state.record || {};
    const dl = document.createElement("dl");
    dl.className = "facts";
    const add = (k, v) => {
      const dt = document.createElement("dt"); dt.textContent = k;
      const dd = document.createElement("dd"); dd.textContent = v;
      dl.append(dt, dd);
    };
    add(T("Outcome"), (state.labels && state.labels.outcome) || record.outcome || "");
    for (const [slot, value] of Object.entries(record.slots || {})) {
      const shown = (state.labels && state.labels.slots && state.labels.slots[slot]) || [slot, JSON.stringify(value)];
      add(shown[0], shown[1]);
    }
    result.append(dl);
    result.dataset.outcome = record.outcome || "";
  }

  document.getElementById("sim-start").addEventListener("click", async () => {
    log.replaceChildren();
    result.hidden = true;
    const person = document.getElementById("sim-person").value;
    const [code, body] = await post("/dialogs/simulate", {source: source.value, person_name: person});
    if (code !== 200) { show([{who: "system", text: T("Fix the problems in the script first.")}]); return; }
    chat = body.chat;
    answer.disabled = send.disabled = false;
    show(body.lines);
    finish(body);
    answer.focus();
  });

  document.getElementById("sim-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!chat) return;
    const text = answer.value;
    answer.value = "";
    const [code, body] = await post("/dialogs/simulate/answer", {chat: chat, answer: text});
    if (code !== 200) { show([{who: "system", text: body.message}]); return; }
    show(body.lines);
    finish(body);
  });
})();
