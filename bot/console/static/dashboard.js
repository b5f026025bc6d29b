// Dashboard charts (Chart.js, vendored). The figures come inline as JSON, then refresh every 30 s.
"use strict";
(function () {
  const palette = ["#1f5fbf", "#e0a800", "#b3261e", "#1e7a3a", "#7b4fb3", "#5b6675", "#0f8b8d"];
  const colours = {green: "#1e7a3a", yellow: "#e0a800", red: "#b3261e"};
  const charts = {};

  function draw(id, type, labels, values, label) {
    const canvas = document.getElementById(id);
    const empty = !values.some((v) => v > 0);
    canvas.parentElement.classList.toggle("empty", empty);
    const data = {labels: labels, datasets: [{label: label, data: values,
      backgroundColor: type === "bar" && !labels.some((l) => colours[l]) ? palette[0]
        : labels.map((l, i) => colours[l] || palette[i % palette.length])}]};
    if (charts[id]) { charts[id].data = data; charts[id].update(); return; }
    charts[id] = new Chart(canvas, {
      type: type, data: data,
      options: {responsive: true, maintainAspectRatio: false, animation: false,
                plugins: {legend: {display: type !== "bar"}}},
    });
  }

  function render(f) {
    draw("chart-hours", "bar", f.hours, f.calls_per_hour, "calls");
    draw("chart-outcomes", "doughnut", Object.keys(f.outcomes), Object.values(f.outcomes), "calls");
    draw("chart-health", "doughnut", Object.keys(f.health_codes), Object.values(f.health_codes), "people");
    draw("chart-reasons", "bar", Object.keys(f.escalation_reasons), Object.values(f.escalation_reasons), "cases");
  }

  render(JSON.parse(document.getElementById("figures").textContent));
  const campaign = document.getElementById("campaign").value;
  setInterval(async () => {
    const resp = await fetch("/dashboard.json" + (campaign ? `?campaign=${campaign}` : ""), {credentials: "same-origin"});
    if (resp.ok) render(await resp.json());
  }, 30000);
})();
