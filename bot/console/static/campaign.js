// Campaign page: progress refreshes every few seconds while the page is open.
"use strict";
(function () {
  // the file picker's own words follow the page's language, not the browser's
  const file = document.getElementById("people-file");
  if (file) file.addEventListener("change", () => {
    if (file.files.length) document.getElementById("file-name").textContent = file.files[0].name;
  });

  const box = document.getElementById("progress");
  if (!box) return;
  const bar = document.getElementById("progress-bar");

  function show(data) {
    const n = data.counts;
    document.getElementById("camp-status").textContent = data.status_label || data.status;
    const why = document.getElementById("why-text");
    if (why && data.why) { why.textContent = data.why; why.className = data.ok ? "notice" : "warn"; }
    const lines = document.getElementById("n-in_call");
    if (lines) lines.textContent = n.in_call;
    for (const k of ["done", "people"]) document.getElementById(k).textContent = n[k];
    for (const k of ["completed", "escalated", "pending", "in_progress", "failed"]) {
      document.getElementById(`n-${k}`).textContent = n[k];
    }
    bar.style.width = n.people ? `${Math.round((100 * n.done) / n.people)}%` : "0%";
    if (data.attempts) showAttempts(data.attempts);
  }

  // 最近通话: the latest calls, refreshed with the progress; each row opens its transcript
  const attemptRows = document.getElementById("attempt-rows");
  const attemptHeads = attemptRows ? [...document.querySelectorAll("#attempts thead th")].map((th) => th.textContent.trim()) : [];
  function showAttempts(list) {
    if (!attemptRows) return;
    const cell = (text, i, cls) => {
      const el = document.createElement("td");
      el.textContent = text;
      if (attemptHeads[i]) el.dataset.label = attemptHeads[i];
      if (cls) el.className = cls;
      return el;
    };
    attemptRows.replaceChildren();
    if (!list.length) {
      const tr = document.createElement("tr"); tr.className = "empty";
      const c = cell(attemptRows.dataset.empty, -1); c.colSpan = 4; tr.append(c); attemptRows.append(tr);
      return;
    }
    for (const a of list) {
      const tr = document.createElement("tr"); tr.dataset.attempt = a.id;
      const who = cell("", 1); const link = document.createElement("a");
      link.href = `/calls/${a.id}`; link.textContent = a.name; who.append(link);
      tr.append(cell(a.started, 0), who, cell(a.result, 2), cell(a.why, 3, "reason"));
      attemptRows.append(tr);
    }
  }

  async function poll() {
    const resp = await fetch(box.dataset.url, {credentials: "same-origin"});
    if (resp.ok) show(await resp.json());
  }
  poll();
  setInterval(poll, 3000);

  // calls in progress: person, state, step, duration and the last words, every 2 s
  const liveBox = document.getElementById("live-calls");
  const liveRows = document.getElementById("live-rows");
  const heads = liveBox ? [...liveBox.querySelectorAll("thead th")].map((th) => th.textContent) : [];

  function td(text, i, cls) {
    const el = document.createElement("td");
    el.textContent = text;
    if (heads[i]) el.dataset.label = heads[i];
    if (cls) el.className = cls;
    return el;
  }

  function showLive(data) {
    liveRows.replaceChildren();
    if (!data.calls.length) {
      const tr = document.createElement("tr"); tr.className = "empty";
      const cell = td(data.empty, -1); cell.colSpan = 5; tr.append(cell); liveRows.append(tr);
      return;
    }
    for (const c of data.calls) {
      const tr = document.createElement("tr"); tr.dataset.attempt = c.attempt_id;
      const words = c.turns.map((t) => `${t.who}：${t.text}`).join("\n");
      tr.append(td(c.name, 0), td(c.state, 1), td(c.step, 2), td(c.duration, 3, "duration"), td(words, 4, "words"));
      liveRows.append(tr);
    }
  }

  async function pollLive() {
    const on = document.getElementById("live-on");
    try {
      const resp = await fetch(liveBox.dataset.url, {credentials: "same-origin"});
      if (!resp.ok) throw new Error(String(resp.status));
      showLive(await resp.json());
      if (on) on.classList.add("on");
    } catch (e) {
      if (on) on.classList.remove("on");
    }
  }
  if (liveBox) { pollLive(); setInterval(pollLive, 2000); }
})();
