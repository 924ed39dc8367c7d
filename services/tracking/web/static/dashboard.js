// The supervisors' dashboard: draws the chart from the page's own data, then polls
// /dashboard/live every few seconds and updates tiles, chart, lists and team table in place.
// Served from this site like everything else (no CDN); Chart.js is vendored under /static/vendor.
(function () {
  "use strict";
  var script = document.currentScript;
  var refreshMs = Number(script.getAttribute("data-refresh-ms")) || 5000;
  var state = document.getElementById("live-state");
  var data = JSON.parse(document.getElementById("chart-data").textContent);

  var chart = new Chart(document.getElementById("compliance-chart"), {
    data: {
      labels: data.labels,
      datasets: [
        { type: "bar", label: "Backlog", data: data.backlog, yAxisID: "tasks",
          backgroundColor: "rgba(43, 108, 176, 0.35)", order: 2 },
        { type: "bar", label: "of which overdue", data: data.backlog_overdue, yAxisID: "tasks",
          backgroundColor: "rgba(197, 48, 48, 0.55)", order: 1 },
        { type: "bar", label: "of which at risk", data: data.backlog_at_risk, yAxisID: "tasks",
          backgroundColor: "rgba(183, 121, 31, 0.55)", order: 1 },
        { type: "line", label: "On-time rate (%)", data: data.on_time_rate, yAxisID: "rate",
          borderColor: "#2f855a", backgroundColor: "#2f855a", spanGaps: true, order: 0 }
      ]
    },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        tasks: { type: "linear", position: "left", beginAtZero: true, title: { display: true, text: "tasks" } },
        rate: { type: "linear", position: "right", min: 0, max: 100, grid: { drawOnChartArea: false },
                title: { display: true, text: "on-time rate %" } }
      }
    }
  });
  window.paichaChart = chart;  // for the browser tests, which read what the chart draws

  function update(live) {
    Object.keys(live.tiles).forEach(function (key) {
      var tile = document.getElementById("tile-" + key);
      if (tile) { tile.textContent = live.tiles[key]; }
    });
    chart.data.labels = live.chart.labels;
    chart.data.datasets[0].data = live.chart.backlog;
    chart.data.datasets[1].data = live.chart.backlog_overdue;
    chart.data.datasets[2].data = live.chart.backlog_at_risk;
    chart.data.datasets[3].data = live.chart.on_time_rate;
    chart.update();
    ["at_risk", "overdue", "teams", "areas"].forEach(function (key) {
      var body = document.getElementById("rows-" + key);
      if (body && live.rows[key] !== undefined) { body.innerHTML = live.rows[key]; }
      var count = document.getElementById("count-" + key);
      if (count && live.totals[key] !== undefined) { count.textContent = live.totals[key]; }
    });
    document.getElementById("as-of").textContent = live.as_of_local;
    state.textContent = "";
    document.body.setAttribute("data-refreshed", live.as_of);
  }

  function refresh() {
    fetch("/dashboard/live", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.status === 401 || response.redirected) { window.location = "/login?next=/dashboard"; return null; }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (live) { if (live) { update(live); } })
      .catch(function (error) { state.textContent = "· refresh failed (" + error.message + "), retrying"; })
      .finally(function () { window.setTimeout(refresh, refreshMs); });
  }
  window.setTimeout(refresh, refreshMs);
})();
