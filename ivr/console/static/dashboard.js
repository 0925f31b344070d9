// The dashboard's charts, drawn by the vendored Chart.js from the numbers the page carries.
"use strict";

(function () {
  const source = document.getElementById("charts-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const accent = "#1f4fd1";
  const good = "#11724b";
  const muted = "#8a5a00";
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.animation = false; // a page read all day should not move on every refresh

  function bars(id, labels, values, color, options) {
    const canvas = document.getElementById(id);
    if (!canvas) return;
    new Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: [{ data: values, backgroundColor: color, borderRadius: 4 }] },
      options: Object.assign(
        {
          maintainAspectRatio: false,
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        },
        options || {}
      ),
    });
  }

  bars("chart-wait", data.time_to_person.labels, data.time_to_person.after_handover, accent);
  bars("chart-queues", data.queues.labels, data.queues.service_level, good, {
    scales: { y: { beginAtZero: true, max: 100 } },
  });
  bars("chart-intents", data.intents.labels, data.intents.calls, accent, { indexAxis: "y" });
  bars("chart-reasons", data.reasons.labels, data.reasons.calls, muted, { indexAxis: "y" });
})();
