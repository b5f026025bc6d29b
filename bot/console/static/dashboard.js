// Dashboard charts (Chart.js, vendored). The figures come inline as JSON, then refresh every 30 s.
// Keys are labelled in the reader's language by the server (figures.labels); counts are whole numbers.
"use strict";
(function () {
  const palette = ["#1f5fbf", "#e0a800", "#b3261e", "#1e7a3a", "#7b4fb3", "#5b6675", "#0f8b8d"];
  const colours = {green: "#1e7a3a", yellow: "#e0a800", red: "#b3261e"};
  const charts = {};

  function draw(id, type, keys, values, label, names) {
    const canvas = document.getElementById(id);
    const empty = !values.some((v) => v > 0);
    canvas.parentElement.classList.toggle("empty", empty);
    const labels = keys.map((k) => (names && names[k]) || k);
    const data = {labels: labels, datasets: [{label: label, data: values,
      backgroundColor: type === "bar" && !keys.some((k) => colours[k]) ? palette[0]
        : keys.map((k, i) => colours[k] || palette[i % palette.length])}]};
    if (charts[id]) { charts[id].data = data; charts[id].update(); return; }
    const integer = {beginAtZero: true, ticks: {precision: 0, stepSize: 1}};
    charts[id] = new Chart(canvas, {
      type: type, data: data,
      options: {responsive: true, maintainAspectRatio: false, animation: false,
                scales: type === "bar" ? {y: integer} : {},
                plugins: {legend: {display: type !== "bar"}}},
    });
  }

  function render(f) {
    draw("chart-hours", "bar", f.hours, f.calls_per_hour, T("calls"));
    draw("chart-outcomes", "doughnut", Object.keys(f.outcomes), Object.values(f.outcomes), T("calls"), f.labels);
    draw("chart-health", "doughnut", Object.keys(f.health_codes), Object.values(f.health_codes), T("people"), f.labels);
    draw("chart-reasons", "bar", Object.keys(f.escalation_reasons), Object.values(f.escalation_reasons), T("people"), f.labels);
  }

  render(JSON.parse(document.getElementById("figures").textContent));
  const campaign = document.getElementById("campaign").value;
  setInterval(async () => {
    const resp = await fetch("/dashboard.json" + (campaign ? `?campaign=${campaign}` : ""), {credentials: "same-origin"});
    if (resp.ok) render(await resp.json());
  }, 30000);
})();
