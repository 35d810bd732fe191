// Page script of the switchboard-soak HTML report (inlined by html_report.cpp).
// Reads the run's JSON report from the data block #report-data and draws the summary
// tables and one Chart.js chart per figure. Every field may be missing (an older
// or partial report): the page then shows a dash or leaves the chart out rather
// than failing. Text from the report goes in through textContent, never as HTML.
// When everything is drawn, document.body.dataset.ready = "1" (the PNG script and
// the tests wait for it).
'use strict';

(function () {
  const report = JSON.parse(document.getElementById('report-data').textContent);
  const timeline = Array.isArray(report.timeline) ? report.timeline : [];
  const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2',
                  '#7f7f7f', '#bcbd22', '#17becf'];

  // ---- formatting ---------------------------------------------------------
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const dash = '\u2014';
  const fmtInt = (v) => (num(v) === null ? dash : Math.round(v).toLocaleString('en-US'));
  const fmtMs = (v) => {
    if (num(v) === null) return dash;
    if (v < 10) return v.toFixed(2);
    if (v < 100) return v.toFixed(1);
    return Math.round(v).toLocaleString('en-US');
  };
  const fmtBytes = (v) => {
    if (num(v) === null) return dash;
    if (v >= 1024 ** 3) return (v / 1024 ** 3).toFixed(2) + ' GiB';
    if (v >= 1024 ** 2) return (v / 1024 ** 2).toFixed(1) + ' MiB';
    if (v >= 1024) return (v / 1024).toFixed(1) + ' KiB';
    return v + ' B';
  };
  const fmtSeconds = (v) => {
    if (num(v) === null) return dash;
    if (v < 120) return (Math.round(v * 10) / 10) + ' s';
    const m = Math.floor(v / 60);
    const s = Math.round(v - m * 60);
    return m + ' min ' + (s ? s + ' s' : '');
  };
  const lastT = timeline.length ? num(timeline[timeline.length - 1].t) || 0 : 0;
  // A tick every round number of seconds or minutes, about ten of them.
  const tickStep = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400]
      .find((step) => lastT / step <= 10) || 28800;
  const fmtClock = (v) => {
    if (lastT < 120) return v + ' s';
    const m = Math.floor(v / 60);
    const s = Math.round(v - m * 60);
    return m + ':' + String(s).padStart(2, '0');
  };

  // ---- DOM helpers ----------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v; else node.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }
  // rows: [[label, value, isBad?], ...] as a two-column table.
  function kvTable(rows) {
    const table = el('table');
    for (const [label, value, bad] of rows) {
      table.append(el('tr', {}, el('td', {}, label), el('td', bad ? { class: 'bad' } : {}, value)));
    }
    return table;
  }
  function card(title, body, wide) {
    return el('div', { class: wide ? 'card wide' : 'card' }, el('h3', {}, title), body);
  }

  // ---- header and banners ---------------------------------------------------
  const gen = report.generator || {};
  document.getElementById('title').textContent =
      'switchboard-soak report' + (report.target ? ' \u2014 ' + report.target : '');
  document.title = 'switchboard-soak: ' + (report.target || 'report');
  document.getElementById('subtitle').textContent = [
    report.started_at ? 'started ' + report.started_at : null,
    num(report.duration_s) !== null ? 'ran ' + fmtSeconds(report.duration_s) : null,
    num(gen.procs) !== null ? gen.procs + (gen.procs === 1 ? ' process' : ' processes') : null,
    report.version ? (report.tool || 'switchboard-soak') + ' ' + report.version : null,
  ].filter(Boolean).join(' \u00b7 ');

  const banners = document.getElementById('banners');
  if (gen.overloaded === true) {
    banners.append(el('div', { class: 'banner bad', id: 'overload-banner' },
        '\u26a0 The load generator was overloaded: these figures measure switchboard-soak, not the target.',
        el('span', { class: 'detail' },
           [gen.verdict, num(gen.max_loop_lag_ms) !== null
               ? 'worst event-loop lag ' + fmtMs(gen.max_loop_lag_ms) + ' ms' : null].filter(Boolean).join('; '))));
  } else if (gen.verdict || num(gen.max_loop_lag_ms) !== null) {
    banners.append(el('div', { class: 'banner good' }, 'Generator: ' + (gen.verdict ||
        'not overloaded (worst event-loop lag ' + fmtMs(gen.max_loop_lag_ms) + ' ms)')));
  }
  const lost = num(report.messages_lost) || 0;
  const errors = num(report.errors) || 0;
  if (errors > 0 || lost > 0) {
    banners.append(el('div', { class: 'banner bad', id: 'errors-banner' },
        fmtInt(errors) + ' errors, ' + fmtInt(lost) + ' messages lost'));
  }

  // ---- summary tables -------------------------------------------------------
  const summary = document.getElementById('summary');
  const nz = (v) => (num(v) || 0) > 0;
  summary.append(card('Sessions', kvTable([
    ['target', fmtInt(report.sessions_target)],
    ['established', fmtInt(report.sessions_established),
     num(report.sessions_target) !== null && num(report.sessions_established) !== null &&
         report.sessions_established < report.sessions_target],
    ['ended (by the target or lost)', fmtInt(report.sessions_ended), nz(report.sessions_ended)],
    ['errors', fmtInt(report.errors), nz(report.errors)],
  ])));
  summary.append(card('Messages', kvTable([
    ['sent', fmtInt(report.messages_sent)],
    ['received', fmtInt(report.messages_received)],
    ['lost', fmtInt(report.messages_lost), nz(report.messages_lost)],
    ['duplicated', fmtInt(report.messages_duplicated), nz(report.messages_duplicated)],
    ['reordered', fmtInt(report.messages_reordered), nz(report.messages_reordered)],
  ])));

  const byKind = Object.entries(report.errors_by_kind || {}).filter(([, n]) => num(n) !== null)
      .sort((a, b) => b[1] - a[1]);
  summary.append(card('Errors by kind', byKind.length
      ? kvTable(byKind.map(([k, n]) => [k, fmtInt(n), n > 0])) : el('p', {}, 'none')));

  const genRows = [
    ['processes', fmtInt(gen.procs)],
    ['worst event-loop lag', fmtMs(gen.max_loop_lag_ms) + ' ms', gen.overloaded === true],
    ['overloaded', gen.overloaded === undefined ? dash : (gen.overloaded ? 'yes' : 'no'), gen.overloaded === true],
  ];
  const genTable = kvTable(genRows);
  if (gen.verdict) genTable.append(el('tr', {}, el('td', { class: 'text', colspan: '2' }, gen.verdict)));
  summary.append(card('Generator', genTable));

  const latency = el('table', {}, el('tr', {}, ...['', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max']
      .map((h) => el('th', {}, h))));
  for (const [label, l] of [['messages', report.latency_ms], ['logins', report.login_latency_ms]]) {
    const v = l || {};
    latency.append(el('tr', {}, el('td', {}, label), el('td', {}, fmtInt(v.count)),
        ...['p50', 'p90', 'p99', 'p999', 'max'].map((k) => el('td', {}, fmtMs(v[k])))));
  }
  summary.append(card('Latency (ms)', latency, true));

  // Watched processes: pid order as in report.watched, figures from the timeline.
  const watchedPids = [];
  const watchedName = new Map();
  for (const w of report.watched || []) {
    if (num(w.pid) === null || watchedName.has(w.pid)) continue;
    watchedPids.push(w.pid);
    watchedName.set(w.pid, w.name || '');
  }
  for (const point of timeline) {
    for (const w of point.watched || []) {
      if (num(w.pid) !== null && !watchedName.has(w.pid)) { watchedPids.push(w.pid); watchedName.set(w.pid, ''); }
    }
  }
  const label = (pid) => (watchedName.get(pid) ? watchedName.get(pid) + ' ' : '') + 'pid ' + pid;
  // series(pid, field) -> [{x: t, y}] with y null where the pid was not sampled.
  function watchedSeries(pid, field) {
    return timeline.map((p) => {
      const w = (p.watched || []).find((x) => x.pid === pid);
      return { x: num(p.t), y: w ? num(w[field]) : null };
    });
  }
  if (watchedPids.length) {
    const table = el('table', {}, el('tr', {}, ...['process', 'processes', 'RSS peak', 'RSS at end',
        'CPU seconds', 'CPU % avg', 'open fds peak'].map((h) => el('th', {}, h))));
    for (const pid of watchedPids) {
      const rss = watchedSeries(pid, 'rss_bytes').map((p) => p.y).filter((y) => y !== null);
      const cpu = watchedSeries(pid, 'cpu_seconds').filter((p) => p.y !== null && p.x !== null);
      const fds = watchedSeries(pid, 'open_fds').map((p) => p.y).filter((y) => y !== null);
      const procs = watchedSeries(pid, 'processes').map((p) => p.y).filter((y) => y !== null);
      const cpuUsed = cpu.length >= 2 ? cpu[cpu.length - 1].y - cpu[0].y : null;
      const span = cpu.length >= 2 ? cpu[cpu.length - 1].x - cpu[0].x : 0;
      table.append(el('tr', {}, el('td', {}, label(pid)),
          el('td', {}, procs.length ? fmtInt(Math.max(...procs)) : dash),
          el('td', {}, rss.length ? fmtBytes(Math.max(...rss)) : dash),
          el('td', {}, rss.length ? fmtBytes(rss[rss.length - 1]) : dash),
          el('td', {}, cpuUsed === null ? dash : cpuUsed.toFixed(1)),
          el('td', {}, cpuUsed === null || span <= 0 ? dash : (100 * cpuUsed / span).toFixed(1)),
          el('td', {}, fds.length ? fmtInt(Math.max(...fds)) : dash)));
    }
    summary.append(card('Watched processes (each with its descendants)', table, true));
  }

  const options = Object.entries(report.options || {});
  if (options.length) {
    summary.append(card('Options', kvTable(options.map(([k, v]) =>
        [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)])), true));
  }

  // ---- charts ---------------------------------------------------------------
  Chart.defaults.animation = false;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = '#1d232a';

  const charts = document.getElementById('charts');
  // The length of each timeline interval, for per-second rates: the first point
  // covers [0, t0] (or one second when t0 is 0).
  const dts = timeline.map((p, i) => {
    const t = num(p.t);
    const prev = i > 0 ? num(timeline[i - 1].t) : 0;
    if (t === null || prev === null) return null;
    const dt = t - prev;
    return dt > 0 ? dt : (i === 0 ? 1 : null);
  });
  const perSecond = (field) => timeline.map((p, i) => ({
    x: num(p.t), y: num(p[field]) !== null && dts[i] ? p[field] / dts[i] : null }));
  const points = (get) => timeline.map((p) => ({ x: num(p.t), y: num(get(p)) }));

  function dataset(labelText, data, i, extra) {
    const color = COLORS[i % COLORS.length];
    return Object.assign({
      label: labelText, data, borderColor: color, backgroundColor: color + '55', borderWidth: 1.6,
      pointRadius: timeline.length > 40 ? 0 : 2, spanGaps: false, tension: 0,
    }, extra || {});
  }

  // figure(id, title, datasets, {yTitle, stacked, type, logToggle, yTick})
  const made = {};
  function figure(id, title, datasets, opts) {
    const o = opts || {};
    const caption = el('figcaption', {}, el('span', {}, title));
    const fig = el('figure', { class: 'chart', id: 'chart-' + id }, caption);
    charts.append(fig);
    if (!timeline.length || !datasets.length) {
      fig.append(el('div', { class: 'empty' }, 'no data in this report'));
      return;
    }
    const canvas = el('canvas', { 'aria-label': title, role: 'img' });
    fig.append(el('div', { class: 'plot' }, canvas));
    const chart = new Chart(canvas, {
      type: o.type || 'line',
      data: { datasets },
      options: {
        responsive: true, maintainAspectRatio: false, normalized: true,
        interaction: { mode: 'index', intersect: false },
        plugins: { legend: { position: 'bottom', labels: { boxWidth: 14 } },
                   tooltip: { callbacks: { title: (items) => (items.length ? fmtClock(items[0].parsed.x) : '') } } },
        scales: {
          x: { type: 'linear', stacked: !!o.stacked, min: o.type === 'bar' ? undefined : 0,
               offset: o.type === 'bar',
               title: { display: true, text: 'time since start' + (lastT < 120 ? ' (s)' : ' (min:s)') },
               ticks: { callback: (v) => fmtClock(v), stepSize: tickStep, maxTicksLimit: 14 } },
          y: { type: 'linear', stacked: !!o.stacked, beginAtZero: true,
               title: { display: !!o.yTitle, text: o.yTitle || '' },
               ticks: o.yTick ? { callback: o.yTick } : {} },
        },
      },
    });
    made[id] = chart;
    if (o.logToggle) {
      // Log scale cannot place zeros; they are hidden while it is on.
      const linear = datasets.map((d) => d.data);
      const box = el('input', { type: 'checkbox', id: 'log-' + id });
      caption.append(el('label', {}, box, ' log scale'));
      const apply = () => {
        chart.options.scales.y.type = box.checked ? 'logarithmic' : 'linear';
        chart.options.scales.y.beginAtZero = !box.checked;
        chart.data.datasets.forEach((d, i) => {
          d.data = box.checked ? linear[i].map((p) => ({ x: p.x, y: p.y > 0 ? p.y : null })) : linear[i];
        });
        chart.update();
      };
      box.addEventListener('change', apply);
      // On from the start when the series span more than two decades (a 5 s
      // outlier would flatten 1 ms medians to the axis).
      const ys = datasets.flatMap((d) => d.data.map((p) => p.y)).filter((y) => y > 0);
      if (ys.length && Math.max(...ys) / Math.min(...ys) > 100) {
        box.checked = true;
        apply();
      }
    }
  }

  const target = num(report.sessions_target);
  figure('sessions', 'Sessions held', [
    dataset('sessions held', points((p) => p.sessions), 0, { fill: 'origin', backgroundColor: COLORS[0] + '22' }),
    ...(target !== null ? [dataset('target', timeline.map((p) => ({ x: num(p.t), y: target })), 7,
        { borderDash: [6, 4], pointRadius: 0, borderWidth: 1 })] : []),
  ], { yTitle: 'sessions' });

  figure('logins', 'Logins per second', [dataset('logins/s', perSecond('logins'), 2)], { yTitle: 'logins/s' });

  figure('messages', 'Messages per second', [
    dataset('sent/s', perSecond('messages_sent'), 0),
    dataset('received/s', perSecond('messages_received'), 3),
  ], { yTitle: 'messages/s' });

  figure('latency', 'Message latency (intended send time to receipt)', [
    dataset('p50', points((p) => (p.latency_ms || {}).p50), 2),
    dataset('p90', points((p) => (p.latency_ms || {}).p90), 0),
    dataset('p99', points((p) => (p.latency_ms || {}).p99), 3),
    dataset('max', points((p) => (p.latency_ms || {}).max), 1, { borderDash: [4, 3] }),
  ], { yTitle: 'ms', logToggle: true });

  const kinds = [];
  for (const p of timeline) {
    for (const k of Object.keys(p.errors_by_kind || {})) if (!kinds.includes(k)) kinds.push(k);
  }
  for (const k of Object.keys(report.errors_by_kind || {})) if (!kinds.includes(k)) kinds.push(k);
  figure('errors', 'Errors per interval, by kind (stacked)', kinds.length
      ? kinds.map((k, i) => dataset(k, timeline.map((p) => ({ x: num(p.t), y: num((p.errors_by_kind || {})[k]) || 0 })),
          i + 1, { backgroundColor: COLORS[(i + 1) % COLORS.length] + 'cc', borderWidth: 0 }))
      // No error at all: one flat series, so the chart still shows the zero.
      : [dataset('errors', timeline.map((p) => ({ x: num(p.t), y: 0 })), 2, { backgroundColor: COLORS[2] + 'cc' })],
      { yTitle: 'errors', stacked: true, type: 'bar' });

  const mib = (v) => (v === null ? null : v / (1024 * 1024));
  figure('rss', 'Resident memory of watched processes (with their descendants)',
      watchedPids.map((pid, i) => dataset(label(pid),
          watchedSeries(pid, 'rss_bytes').map((p) => ({ x: p.x, y: mib(p.y) })), i)),
      { yTitle: 'MiB' });

  // CPU % of one core over each interval, from the cpu_seconds deltas; a fall
  // (a process of the tree gone before its parent reaped it) leaves a gap.
  figure('cpu', 'CPU of watched processes (% of one core)', watchedPids.map((pid, i) => {
    const s = watchedSeries(pid, 'cpu_seconds');
    return dataset(label(pid), s.map((p, j) => {
      const prev = j > 0 ? s[j - 1] : null;
      if (!prev || p.y === null || prev.y === null || p.x === null || prev.x === null || p.x <= prev.x) {
        return { x: p.x, y: null };
      }
      const pct = 100 * (p.y - prev.y) / (p.x - prev.x);
      return { x: p.x, y: pct >= 0 ? pct : null };
    }), i);
  }), { yTitle: '% of one core' });

  figure('fds', 'Open file descriptors of watched processes',
      watchedPids.map((pid, i) => dataset(label(pid), watchedSeries(pid, 'open_fds'), i)), { yTitle: 'fds' });

  figure('loop-lag', 'Load generator event-loop lag', [
    dataset('loop lag', points((p) => p.loop_lag_ms), 4),
  ], { yTitle: 'ms' });

  window.sbReportCharts = made;
  document.body.dataset.ready = '1';
})();
