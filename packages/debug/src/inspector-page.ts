/**
 * The inspector's single page. It polls the JSON endpoints twice a second and draws the
 * lag chart with uPlot (served from the installed package at /vendor/), keeping its own
 * history of the samples it has seen.
 */
export const INSPECTOR_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>@loop inspector</title>
<link rel="stylesheet" href="/vendor/uPlot.min.css">
<style>
  :root { color-scheme: light; --fg: #1d232b; --muted: #5d6875; --line: #d8dee6; --bad: #b3261e; --accent: #2563eb; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: #f6f8fa; }
  header { display: flex; align-items: baseline; gap: 16px; padding: 12px 20px; background: #fff; border-bottom: 1px solid var(--line); }
  header h1 { margin: 0; font-size: 18px; }
  header .status { color: var(--muted); }
  main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 16px; padding: 16px 20px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
  section h2 { margin: 0 0 8px; font-size: 14px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
  .tree { grid-row: span 2; }
  pre { margin: 0; font: 12.5px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre; overflow: auto; }
  .deadlock { color: var(--bad); font-weight: 600; }
  .stats { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; margin-bottom: 10px; }
  .stat { border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; }
  .stat b { display: block; font-size: 18px; }
  .stat span { color: var(--muted); font-size: 12px; }
  table { width: 100%; border-collapse: collapse; font-size: 13px; }
  th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<header><h1>@loop inspector</h1><span class="status" id="status">connecting…</span></header>
<main>
  <section class="tree"><h2>Task tree</h2><pre id="task-tree">loading…</pre></section>
  <section>
    <h2>Loop</h2>
    <div class="stats">
      <div class="stat"><b id="stat-tasks">–</b><span>live tasks</span></div>
      <div class="stat"><b id="stat-timers">–</b><span>pending timers</span></div>
      <div class="stat"><b id="stat-rate">–</b><span>callbacks / s</span></div>
      <div class="stat"><b id="stat-ready">–</b><span>ready queue</span></div>
      <div class="stat"><b id="stat-p99">–</b><span>lag p99 (ms)</span></div>
      <div class="stat"><b id="stat-workers">–</b><span>worker ms</span></div>
    </div>
    <div id="lag-chart"></div>
  </section>
  <section>
    <h2>Slowest callbacks</h2>
    <table><thead><tr><th>callback / task step</th><th>kind</th><th class="num">ms</th></tr></thead><tbody id="slowest"></tbody></table>
  </section>
</main>
<script src="/vendor/uPlot.iife.min.js"></script>
<script>
(function () {
  var MAX_POINTS = 240;
  var times = [], p50 = [], p99 = [], max = [];
  var chartEl = document.getElementById("lag-chart");
  var chart = new uPlot({
    width: Math.max(320, chartEl.clientWidth || 480),
    height: 220,
    title: "Iteration lag (ms)",
    scales: { x: { time: true }, y: { range: function (u, lo, hi) { return [0, Math.max(1, hi * 1.1)]; } } },
    series: [
      {},
      { label: "p50", stroke: "#2563eb", width: 1.5 },
      { label: "p99", stroke: "#d97706", width: 1.5 },
      { label: "max", stroke: "#b3261e", width: 1 }
    ],
    axes: [{}, { size: 48 }]
  }, [times, p50, p99, max], chartEl);
  window.addEventListener("resize", function () { chart.setSize({ width: Math.max(320, chartEl.clientWidth), height: 220 }); });

  function text(id, value) { document.getElementById(id).textContent = value; }
  function fmt(n) { return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2); }

  function renderTree(data) {
    var pre = document.getElementById("task-tree");
    pre.textContent = "";
    data.text.split("\\n").forEach(function (line) {
      var div = document.createElement("div");
      if (line.indexOf("DEADLOCK") === 0) div.className = "deadlock";
      div.textContent = line;
      pre.appendChild(div);
    });
  }

  function renderMetrics(m) {
    text("stat-tasks", m.liveTasks);
    text("stat-timers", m.pendingTimers);
    text("stat-rate", fmt(m.callbacksPerSecond));
    text("stat-ready", m.readyQueue.depth);
    text("stat-p99", fmt(m.lagMs.p99));
    text("stat-workers", fmt(m.workers.busyMs));
    times.push(Date.now() / 1000); p50.push(m.lagMs.p50); p99.push(m.lagMs.p99); max.push(m.lagMs.max);
    if (times.length > MAX_POINTS) { times.shift(); p50.shift(); p99.shift(); max.shift(); }
    chart.setData([times, p50, p99, max]);
    var body = document.getElementById("slowest");
    body.textContent = "";
    m.slowest.forEach(function (s) {
      var tr = document.createElement("tr");
      [s.name, s.kind, fmt(s.durationMs)].forEach(function (v, i) {
        var td = document.createElement("td");
        if (i === 2) td.className = "num";
        td.textContent = v;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function poll() {
    Promise.all([fetch("/api/tasks").then(function (r) { return r.json(); }), fetch("/api/metrics").then(function (r) { return r.json(); })])
      .then(function (res) {
        renderTree(res[0]);
        renderMetrics(res[1]);
        text("status", "live · updated " + new Date().toLocaleTimeString());
        document.body.dataset.updated = String(Date.now());
      })
      .catch(function (e) { text("status", "disconnected (" + e.message + ")"); })
      .finally(function () { setTimeout(poll, 500); });
  }
  poll();
})();
</script>
</body>
</html>
`;
