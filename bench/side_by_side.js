#!/usr/bin/env node
'use strict';
// Switchboard beside the servers' own BOSH, same load, one invocation: the
// same switchboard-soak run (BOSH, XEP-0206 login with SASL PLAIN against
// registered accounts u1..uN / p1..pN, chatting in pairs) against
//   1. switchboard in front of a real ejabberd,  2. ejabberd's own mod_bosh,
//   3. switchboard in front of a real Prosody,   4. Prosody's own mod_bosh,
// each on fresh private servers. With --drop P it is the flaky-link run: that
// fraction of the soak's requests has its connection cut before the answer is
// read, and the request is sent again with the same rid (docs/soak.md), on the
// schedule of the soak's --client (strophe, its default, or classic: the
// scheduling the flaky-link figures of docs/benchmarks.md were measured with).
//
//   node bench/side_by_side.js [--sessions 1000] [--drop 0] [--hold-seconds 30]
//       [--rate 100] [--msg-rate 100] [--settle 5] [--skip-ejabberd]
//       [--skip-prosody] [--client strophe|classic] [--out DIR] [--timeout 3600]
//
// For each endpoint: a fresh server with N + 20 accounts (mod_bosh on, 60 s
// inactivity like switchboard's default); switchboard in front of its c2s port
// for 1 and 3 (one worker per 8,000 sessions: a worker holds about 9,900 at
// the 20,000-fd limit); a warm-up soak of 20 sessions logged in and out (first
// use costs are not per-session costs); the baseline reading (switchboard +
// server, RSS and PSS of each process tree, tests/lib/proc_stats.js); the soak:
// N logins at --rate, messages at --msg-rate from the first login on, held
// --hold-seconds after the last login is due, then a drain of up to 15 s and
// every session terminates. Once all N are online (from its progress lines),
// --settle seconds, then the loaded reading: memory per session is (loaded -
// baseline) / online, switchboard and server summed. CPU seconds per 1,000
// messages come from the soak's own once-a-second samples of both process
// trees (--watch-pid): over the run phase after the logins (logins and
// logouts excluded), divided by the messages received in those seconds. The soak runs in ceil(N / 5,000) processes (the fd limit).
//
// Printed: a markdown table, one column per endpoint, and the ratios of
// switchboard's figures against the same server's own BOSH measured in this
// invocation. A latency or CPU figure is only claimed when the generator says
// it kept up (report.generator.overloaded false); otherwise it is marked.
// The soaks' JSON and HTML reports and the table go to --out (default
// bench-out/side_by_side-<time>). Everything runs on 127.0.0.1; every process
// started is stopped by PID (the soak by its process group) at the end, also
// on failure, timeout or Ctrl-C.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Switchboard } = require('../tests/lib/switchboard');
const { snapshot, MiB } = require('../tests/lib/proc_stats');
const { startSoak, startServer, track, stopFrontAndServer, stopAll, stopOnTimeoutOrSignal, repoRoot } = require('./lib/soak_run');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const WARMUP = 20;
const SESSIONS_PER_WORKER = 8000;
const SESSIONS_PER_SOAK_PROCESS = 5000;

function parseArgs(argv) {
  const opts = { sessions: 1000, drop: 0, 'hold-seconds': 30, rate: 100, 'msg-rate': 100, settle: 5, timeout: 3600,
    ejabberd: true, prosody: true, out: null, client: 'strophe' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const key = arg.replace(/^--/, '');
    if (arg === '--skip-ejabberd') opts.ejabberd = false;
    else if (arg === '--skip-prosody') opts.prosody = false;
    else if (arg === '--client') {
      opts.client = argv[++i];
      if (!['strophe', 'classic'].includes(opts.client)) throw new Error('--client is strophe or classic');
    } else if (arg === '--out') {
      if (!argv[i + 1]) throw new Error('--out needs a folder');
      opts.out = path.resolve(argv[++i]);
    } else if (arg.startsWith('--') && key in opts && typeof opts[key] === 'number') {
      const value = Number(argv[++i]);
      if (!Number.isFinite(value) || value < 0) throw new Error(`${arg} needs a number >= 0`);
      opts[key] = value;
    } else throw new Error(`unknown argument ${arg} (see the comment at the top of this file)`);
  }
  if (!Number.isInteger(opts.sessions) || opts.sessions < 2) throw new Error('--sessions needs a whole number >= 2');
  if (opts.drop >= 1) throw new Error('--drop is a fraction below 1 (0.1 = 10 % of requests cut)');
  if (!(opts.rate > 0)) throw new Error('--rate must be above 0');
  if (!opts.ejabberd && !opts.prosody) throw new Error('--skip-ejabberd and --skip-prosody leave nothing to measure');
  if (!opts.out) opts.out = path.join(repoRoot, 'bench-out', `side_by_side-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  return opts;
}

const loadavg = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');

/** Memory and CPU of switchboard's process tree (if any) and the server's, now. */
function reading(switchboard, server) {
  const sb = switchboard ? snapshot(switchboard.child.pid) : null;
  const srv = snapshot(server.child.pid);
  return { sb, server: srv, rss: srv.rss + (sb ? sb.rss : 0), pss: srv.pss + (sb ? sb.pss : 0) };
}

/**
 * CPU seconds per 1,000 messages from the soak's timeline: the points of the
 * run phase after the logins (from a second after the last login was due, or
 * after all were online if that came later, to the end of the run phase), CPU
 * of every watched tree summed, over the messages received after the first
 * such point. Sessions that ended early do not void the figure.
 */
function steadyCpu(report, fromSeconds, runSeconds) {
  const points = report.timeline.filter((p) => p.t >= fromSeconds && p.t <= runSeconds && p.watched.every((w) => w.alive));
  if (points.length < 3) return null;
  const cpu = (p) => p.watched.reduce((sum, w) => sum + w.cpu_seconds, 0);
  const first = points[0];
  const last = points[points.length - 1];
  const messages = points.slice(1).reduce((sum, p) => sum + p.messages_received, 0);
  if (!messages) return null;
  return { seconds: last.t - first.t, cpu: cpu(last) - cpu(first), messages, perThousand: ((cpu(last) - cpu(first)) / messages) * 1000 };
}

async function measure(front, serverKind, opts, log) {
  const n = opts.sessions;
  const name = front ? `switchboard -> ${serverKind}` : `${serverKind}'s own mod_bosh`;
  const slug = `${front ? 'switchboard-' : 'own-'}${serverKind}`;
  log(`${name}: starting ${serverKind} with ${n + WARMUP} accounts`);
  const server = await startServer(serverKind, n + WARMUP, { options: { bosh: true, inactivity: 60 } });
  let switchboard = null;
  const r = { front, serverKind, name, slug, notes: [], loadBefore: loadavg() };
  try {
    if (front) {
      r.workers = Math.ceil(n / SESSIONS_PER_WORKER);
      switchboard = new Switchboard({ upstreamPort: server.c2sPort, settings: { log_level: 'warn', workers: r.workers } });
      switchboard.front = true;
      track(switchboard);
      await switchboard.start();
      r.binary = switchboard.binary;
    }
    const url = switchboard ? switchboard.boshUrl : server.boshUrl;
    r.url = url;
    const account = (first, count) => ['--url', url, '--domain', 'localhost', '--user-pattern', 'u%d', '--password', 'p%d',
      '--first-user', String(first), '--sessions', String(count)];

    const warm = startSoak([...account(n + 1, WARMUP), '--rate', '20', '--duration', '4', '--msg-rate', '20', '--drain', '2'], WARMUP);
    const w = await warm.done;
    if (!w.report || w.report.sessions_established !== WARMUP) throw new Error(`${name}: warm-up failed:\n${w.output.slice(-2000)}`);
    await sleep(2000);
    r.zero = reading(switchboard, server);

    const rampSeconds = Math.ceil(n / opts.rate);
    r.runSeconds = rampSeconds + opts['hold-seconds'];
    r.procs = Math.ceil(n / SESSIONS_PER_SOAK_PROCESS);
    const watch = [...(switchboard ? ['--watch-pid', String(switchboard.child.pid)] : []), '--watch-pid', String(server.child.pid)];
    r.soakArgs = [...account(1, n), '--rate', String(opts.rate), '--duration', String(r.runSeconds),
      '--msg-rate', String(opts['msg-rate']), '--drop', String(opts.drop), '--client', opts.client,
      '--procs', String(r.procs), '--drain', '15',
      '--connect-timeout', '30000', '--max-errors', String(10 * n), ...watch, '--html', path.join(opts.out, `${slug}.html`)];
    log(`${name}: baseline RSS ${MiB(r.zero.rss)}; ${n} logins at ${opts.rate}/s, held ${opts['hold-seconds']} s after the last`);
    const started = Date.now();
    const soak = startSoak(r.soakArgs, n);
    await soak.up;
    r.online = soak.online();
    r.allUpSeconds = (soak.upAt() - started) / 1000;
    if (soak.child.exitCode === null) {
      await sleep(opts.settle * 1000);
      r.loaded = reading(switchboard, server);
      r.onlineAtReading = soak.online();
      log(`${name}: ${r.online} online after ${r.allUpSeconds.toFixed(1)} s; RSS ${MiB(r.loaded.rss)}`);
    } else {
      r.notes.push('the soak ended before all sessions were online: no loaded memory reading');
    }
    const result = await soak.done;
    if (!result.report) throw new Error(`${name}: the soak wrote no report (status ${result.status}):\n${result.output.slice(-3000)}`);
    r.report = result.report;
    r.status = result.status;
    r.failure = (/FAILED: .*/.exec(result.output) || [''])[0];
    fs.writeFileSync(path.join(opts.out, `${slug}.json`), JSON.stringify(result.report, null, 1));
    r.cpu = steadyCpu(result.report, Math.max(rampSeconds, r.allUpSeconds) + 1, r.runSeconds);
    if (!r.cpu) r.notes.push('fewer than 3 seconds of run phase after the logins: no CPU-per-message figure');
    r.loadAfter = loadavg();
  } finally {
    await stopFrontAndServer(switchboard, server, r.notes, log, name);
  }
  return r;
}

// --- the report -------------------------------------------------------------

const fixed = (x, digits = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const overloaded = (r) => r.report.generator.overloaded;
const claim = (r, text) => (overloaded(r) ? `${text} (gen. overloaded)` : text);
const perSession = (r, field) => (r.loaded ? (r.loaded[field] - r.zero[field]) / r.onlineAtReading : NaN);
const errorsByKind = (r) => {
  const kinds = Object.entries(r.report.errors_by_kind || {}).filter(([, count]) => count > 0);
  return kinds.length ? kinds.map(([kind, count]) => `${kind} ${count}`).join(', ') : 'none';
};
const lat = (h) => `${fixed(h.p50)} / ${fixed(h.p90)} / ${fixed(h.p99)} / ${fixed(h.p999)} / ${fixed(h.max, 1)}`;

function table(results, opts) {
  const lines = [];
  const out = (s = '') => lines.push(s);
  const row = (label, cells) => out(`| ${label} | ${cells.join(' | ')} |`);
  out(`BOSH side by side: ${opts.sessions} sessions (SASL PLAIN, u%d / p%d), ${opts.rate} logins/s, ${opts['msg-rate']} msg/s in pairs,`
    + ` held ${opts['hold-seconds']} s after the last login, --drop ${opts.drop}, --client ${opts.client}`);
  out(`date ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} cores`);
  for (const r of results.filter((x) => x.binary)) out(`${r.name}: binary ${r.binary}, ${r.workers} worker(s)`);
  out();
  row('', results.map((r) => r.name));
  row('---', results.map(() => '---:'));
  row('load average before / after', results.map((r) => `${r.loadBefore} / ${r.loadAfter || '-'}`));
  row('sessions established / target', results.map((r) => `${r.report.sessions_established} / ${r.report.sessions_target}`));
  row('all online after (s)', results.map((r) => (r.online >= opts.sessions ? fixed(r.allUpSeconds, 1)
    : `never (${Math.max(0, ...r.report.timeline.map((p) => p.sessions))} at most)`)));
  row('sessions ended early', results.map((r) => r.report.sessions_ended));
  row('errors', results.map((r) => r.report.errors));
  row('errors by kind', results.map(errorsByKind));
  row('requests / cut by --drop / resent', results.map((r) => `${int(r.report.requests)} / ${int(r.report.drops)} / ${int(r.report.resends)}`));
  row('messages sent / received', results.map((r) => `${int(r.report.messages_sent)} / ${int(r.report.messages_received)}`));
  row('lost / duplicated / reordered', results.map((r) => `${r.report.messages_lost} / ${r.report.messages_duplicated} / ${r.report.messages_reordered}`));
  row('latency p50 / p90 / p99 / p99.9 / max (ms)', results.map((r) => claim(r, lat(r.report.latency_ms))));
  row('login latency p50 / p90 / p99 / p99.9 / max (ms)', results.map((r) => claim(r, lat(r.report.login_latency_ms))));
  row('stack RSS baseline / loaded', results.map((r) => `${MiB(r.zero.rss)} / ${r.loaded ? MiB(r.loaded.rss) : '-'}`));
  row('stack RSS per session (bytes)', results.map((r) => int(perSession(r, 'rss'))));
  row('stack PSS per session (bytes)', results.map((r) => int(perSession(r, 'pss'))));
  row('  of which switchboard RSS (bytes)', results.map((r) => (r.front && r.loaded ? int((r.loaded.sb.rss - r.zero.sb.rss) / r.onlineAtReading) : '-')));
  row('CPU s per 1,000 msgs (stack)', results.map((r) => (r.cpu ? claim(r, fixed(r.cpu.perThousand, 3)) : '-')));
  row('  CPU window (s, msgs)', results.map((r) => (r.cpu ? `${fixed(r.cpu.seconds, 0)} s, ${int(r.cpu.messages)}` : '-')));
  row('generator verdict', results.map((r) => (overloaded(r) ? 'OVERLOADED' : 'kept up')
    + ` (max lag ${fixed(r.report.generator.max_loop_lag_ms, 0)} ms, ${r.report.generator.procs} proc)`));
  row('soak exit status', results.map((r) => r.status));
  out();

  const ratios = [];
  for (const serverKind of ['ejabberd', 'prosody']) {
    const sb = results.find((r) => r.front && r.serverKind === serverKind);
    const own = results.find((r) => !r.front && r.serverKind === serverKind);
    if (sb && own) ratios.push([sb, own]);
  }
  if (ratios.length) {
    out('Ratios, switchboard + server / the server\'s own mod_bosh (below 1: switchboard\'s stack is smaller or faster):');
    out();
    out(`| figure | ${ratios.map(([, own]) => `${own.serverKind}`).join(' | ')} |`);
    out(`| --- | ${ratios.map(() => '---:').join(' | ')} |`);
    const ratio = (a, b, needsGenerator, pair) => {
      // A growth at or below zero (a garbage-collected heap shrinking at small
      // counts) gives no meaningful ratio.
      if (!Number.isFinite(a) || !Number.isFinite(b) || a <= 0 || b <= 0) return '-';
      const text = a / b >= 0.1 ? fixed(a / b) : (a / b).toPrecision(2);
      return needsGenerator && (overloaded(pair[0]) || overloaded(pair[1])) ? `${text} (gen. overloaded)` : text;
    };
    const figure = (label, get, needsGenerator) => out(`| ${label} | ${ratios.map((pair) => ratio(get(pair[0]), get(pair[1]), needsGenerator, pair)).join(' | ')} |`);
    figure('latency p50', (r) => r.report.latency_ms.p50, true);
    figure('latency p99', (r) => r.report.latency_ms.p99, true);
    figure('latency p99.9', (r) => r.report.latency_ms.p999, true);
    figure('latency max', (r) => r.report.latency_ms.max, true);
    figure('login latency p50', (r) => r.report.login_latency_ms.p50, true);
    figure('login latency p99', (r) => r.report.login_latency_ms.p99, true);
    figure('stack RSS per session', (r) => perSession(r, 'rss'), false);
    figure('stack PSS per session', (r) => perSession(r, 'pss'), false);
    figure('CPU s per 1,000 msgs', (r) => (r.cpu ? r.cpu.perThousand : NaN), true);
    out();
  }
  for (const r of results) {
    if (r.failure) out(`${r.name}: soak ${r.failure}`);
    for (const note of r.notes) out(`${r.name}: ${note}`);
  }
  return lines.join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  fs.mkdirSync(opts.out, { recursive: true });
  // The harness starts switchboard in a temp folder: a relative path would not resolve there.
  for (const key of ['SWITCHBOARD_BIN', 'SOAK_BIN']) {
    if (process.env[key]) process.env[key] = path.resolve(process.env[key]);
  }
  const log = (msg) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
  const cancelTimeout = stopOnTimeoutOrSignal(opts.timeout, log);
  const plan = [];
  if (opts.ejabberd) plan.push([true, 'ejabberd'], [false, 'ejabberd']);
  if (opts.prosody) plan.push([true, 'prosody'], [false, 'prosody']);
  const results = [];
  try {
    for (const [front, serverKind] of plan) {
      try {
        results.push(await measure(front, serverKind, opts, log));
      } catch (err) {
        // One endpoint that cannot be measured (a server that falls over) does
        // not void the others; it is said in the output.
        log(`${front ? 'switchboard -> ' : 'own '}${serverKind} failed: ${err.stack || err.message}`);
        process.exitCode = 1;
      }
    }
    if (results.length) {
      const text = table(results, opts);
      console.log(text);
      fs.writeFileSync(path.join(opts.out, 'table.md'), `${text}\n\ncommand: node bench/side_by_side.js ${process.argv.slice(2).join(' ')}\n`);
      log(`reports in ${opts.out}`);
    }
  } finally {
    await stopAll();
    cancelTimeout();
  }
}

main().catch((err) => {
  console.error(`side_by_side failed: ${err.stack || err.message}`);
  process.exitCode = 1;
  stopAll();
});
