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
  }

  async function poll() {
    const resp = await fetch(box.dataset.url, {credentials: "same-origin"});
    if (resp.ok) show(await resp.json());
  }
  poll();
  setInterval(poll, 3000);
})();
