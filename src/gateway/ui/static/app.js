// Hearth dashboard: polls /ui/api/summary and renders tables and two Chart.js charts.
'use strict';

const $ = (sel) => document.querySelector(sel);
const el = (tag, props = {}, children = []) => {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
};
const time = (ms) => new Date(ms).toLocaleTimeString();

let rateChart;
let latencyChart;

function makeCharts() {
  const common = {
    animation: false,
    responsive: true,
    scales: { x: { ticks: { maxTicksLimit: 8 } }, y: { beginAtZero: true } },
    plugins: { legend: { display: true, position: 'bottom' } },
  };
  rateChart = new Chart($('#rate-chart'), {
    type: 'bar',
    data: { labels: [], datasets: [{ label: 'invocations/s', data: [], backgroundColor: '#fb923c' }, { label: 'errors/s', data: [], backgroundColor: '#ef4444' }] },
    options: { ...common, scales: { ...common.scales, x: { ...common.scales.x, stacked: true } } },
  });
  latencyChart = new Chart($('#latency-chart'), {
    type: 'line',
    data: { labels: [], datasets: [
      { label: 'p50', data: [], borderColor: '#2563eb', spanGaps: true, pointRadius: 2 },
      { label: 'p99', data: [], borderColor: '#dc2626', spanGaps: true, pointRadius: 2 },
    ] },
    options: common,
  });
}

function renderCharts(stats) {
  const labels = stats.map((b) => time(b.start));
  const seconds = stats.length > 1 ? (stats[1].start - stats[0].start) / 1000 : 30;
  rateChart.data.labels = labels;
  rateChart.data.datasets[0].data = stats.map((b) => (b.count - b.errors) / seconds);
  rateChart.data.datasets[1].data = stats.map((b) => b.errors / seconds);
  rateChart.update();
  latencyChart.data.labels = labels;
  latencyChart.data.datasets[0].data = stats.map((b) => b.p50);
  latencyChart.data.datasets[1].data = stats.map((b) => b.p99);
  latencyChart.update();
  // Read by the end-to-end test: how many invocations the charts currently show.
  document.body.dataset.chartInvocations = String(stats.reduce((n, b) => n + b.count, 0));
}

function renderFunctions(functions) {
  const body = $('#functions tbody');
  body.replaceChildren(...functions.map((f) => el('tr', { className: 'function-row' }, [
    el('td', { textContent: f.name, className: 'fn-name' }),
    el('td', { textContent: `v${f.version}` }),
    el('td', { textContent: f.digest.slice(0, 19), className: 'mono', title: f.digest }),
    el('td', { textContent: String(f.warm.idle), className: 'warm-idle' }),
    el('td', { textContent: String(f.warm.busy), className: 'warm-busy' }),
    el('td', { textContent: new Date(f.updatedAt).toLocaleString() }),
  ])));
  $('#functions-empty').hidden = functions.length > 0;
}

function renderNodes(nodes, self, now) {
  const body = $('#nodes tbody');
  body.replaceChildren(...nodes.map((n) => el('tr', { className: 'node-row' }, [
    el('td', { textContent: n.id + (n.id === self ? ' (this node)' : ''), className: 'node-id' }),
    el('td', { textContent: n.url, className: 'mono' }),
    el('td', { textContent: n.version }),
    el('td', { textContent: String(n.containers), className: 'node-containers' }),
    el('td', { textContent: `${n.memoryReservedMb} / ${n.memoryBudgetMb ?? '∞'} MB` }),
    el('td', { textContent: `${Math.max(0, Math.round((now - Date.parse(n.lastHeartbeat)) / 1000))} s ago` }),
    el('td', { textContent: n.unavailable.join(', ') }),
  ])));
}

function renderRecent(recent) {
  const body = $('#recent tbody');
  body.replaceChildren(...recent.map((r) => {
    const link = el('a', { href: `#logs/${r.id}`, textContent: r.id.slice(0, 8), className: 'logs-link', title: 'show logs' });
    return el('tr', { className: 'invocation-row' }, [
      el('td', { textContent: time(r.finishedAt) }),
      el('td', { textContent: r.function }),
      el('td', { textContent: r.version == null ? '' : `v${r.version}` }),
      el('td', { textContent: r.ok ? 'succeeded' : r.outcome, className: r.ok ? 'ok status' : 'fail status', title: r.errorMessage || '' }),
      el('td', { textContent: `${r.durationMs.toFixed(1)} ms` }),
      el('td', { textContent: r.coldStart ? 'cold' : 'warm' }),
      el('td', {}, [link]),
    ]);
  }));
  $('#recent-empty').hidden = recent.length > 0;
}

async function showLogs(id) {
  const res = await fetch(`/ui/api/invocations/${encodeURIComponent(id)}`);
  $('#logs').hidden = false;
  $('#logs-id').textContent = id;
  if (!res.ok) {
    $('#logs-body').textContent = `(no logs: ${res.status})`;
    return;
  }
  const inv = await res.json();
  const lines = inv.logs.map((l) => `${new Date(l.time).toISOString()} ${l.stream.padEnd(6)} ${l.line}`);
  if (!inv.ok) lines.push(`-- ${inv.outcome}: ${inv.errorMessage ?? ''}`);
  $('#logs-body').textContent = lines.join('\n') || '(no output)';
}

async function refresh() {
  try {
    const res = await fetch('/ui/api/summary');
    if (res.status === 401) {
      location.href = '/ui/login';
      return;
    }
    const summary = await res.json();
    renderFunctions(summary.functions);
    renderNodes(summary.nodes ?? [], summary.node, summary.now);
    renderRecent(summary.recent);
    renderCharts(summary.stats);
    $('#updated').textContent = `updated ${time(summary.now)}`;
  } catch (err) {
    $('#updated').textContent = `cannot reach the server: ${err.message}`;
  }
}

function route() {
  const m = location.hash.match(/^#logs\/(.+)$/);
  if (m) void showLogs(decodeURIComponent(m[1]));
  else $('#logs').hidden = true;
}

makeCharts();
$('#logs-close').addEventListener('click', (e) => { e.preventDefault(); location.hash = ''; });
window.addEventListener('hashchange', route);
route();
void refresh();
setInterval(refresh, 2000);
