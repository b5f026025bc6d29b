// Escalation queue: live updates over server-sent events, and claiming a case.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const errorBox = document.getElementById("queue-error");

  function showError(text) {
    if (!errorBox) return;
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  async function claim(caseId) {
    const resp = await fetch(`/cases/${caseId}/claim`, {
      method: "POST", headers: {"X-CSRF-Token": csrf}, credentials: "same-origin",
    });
    let body = {};
    try { body = await resp.json(); } catch (e) { /* not JSON */ }
    if (resp.ok) { window.location.assign(body.url); return; }
    showError(body.message || T("Could not claim", {id: caseId, status: resp.status}));
  }

  document.addEventListener("click", (ev) => {
    const btn = ev.target.closest("button.claim");
    if (btn) { ev.preventDefault(); claim(btn.dataset.case); }
  });

  // while a claimed case is open, keep the claim alive (it lapses only when abandoned)
  const working = document.getElementById("resolve");
  if (working) {
    setInterval(() => fetch(`/cases/${working.dataset.case}/claim`, {
      method: "POST", headers: {"X-CSRF-Token": csrf}, credentials: "same-origin",
    }), 4 * 60 * 1000);
  }

  const table = document.querySelector("#queue tbody");
  if (!table || !window.EventSource) return;
  const who = document.querySelector(".who");
  const me = who ? who.dataset.username : "";

  const labels = ["Case", "Name", "Risk", "Priority", "Reason", "At step", "Campaign", "Waiting", "Held by"].map((k) => T(k));

  function cell(text, i) {
    const td = document.createElement("td");
    td.textContent = text;
    if (labels[i]) td.dataset.label = labels[i];
    return td;
  }

  function render(cases) {
    table.replaceChildren();
    if (!cases.length) {
      const tr = document.createElement("tr"); tr.className = "empty";
      const td = cell(T("No cases are waiting.")); td.colSpan = 10; tr.append(td); table.append(tr);
      return;
    }
    for (const c of cases) {
      const tr = document.createElement("tr"); tr.dataset.case = c.id;
      if (c.overdue) tr.className = "overdue";
      const values = [`#${c.id}`, c.name, c.risk_category, c.priority, c.reason_label, c.step_label, c.campaign,
        c.wait_label, c.claimed_by || ""];
      tr.append(...values.map(cell));
      const td = document.createElement("td");
      td.className = "act";
      if (c.claimed_by && c.claimed_by !== me) {
        const span = document.createElement("span");
        span.className = "held"; span.textContent = T("held by another operator");
        td.append(span);
      } else {
        const b = document.createElement("button");
        b.type = "button"; b.className = "claim small"; b.dataset.case = c.id;
        b.textContent = c.claimed_by === me ? T("Open") : T("Claim");
        td.append(b);
      }
      tr.append(td); table.append(tr);
    }
  }

  const live = document.getElementById("live");
  const source = new EventSource("/queue/stream");
  source.addEventListener("queue", (ev) => { render(JSON.parse(ev.data).cases); if (live) live.classList.add("on"); });
  source.onerror = () => { if (live) live.classList.remove("on"); };
})();
