#!/usr/bin/env node
'use strict';
// Memory cost of idle BOSH sessions: how much user-space memory (RSS) a BOSH
// endpoint grows by for each logged-in session that just sits there with one
// long poll held, measured for switchboard and, in the same invocation, for
// Prosody's own mod_bosh as the baseline to beat.
//
//   node bench/idle_sessions.js [--sessions 1000] [--concurrency 50]
//       [--wait 60] [--settle 5] [--warmup 10] [--timeout 180] [--skip-direct]
//       [--baseline-bin PATH]
//
// (--wait: BOSH wait in seconds; --settle: seconds between the last login and
// the reading; --skip-direct: switchboard only, no Prosody mod_bosh run;
// --baseline-bin: also run this other switchboard binary, e.g. a build of an
// older commit, the same way, and print the ratio of the two.)
//
// For each endpoint: start a fresh private Prosody with N accounts (and
// switchboard in front of it, --log-level warn, or Prosody's mod_bosh), log a
// few warm-up sessions in and out, read RSS and fds with 0 sessions, log N
// sessions in (create wait/hold=1, SASL PLAIN, restart, bind, presence; a
// bounded number at a time) and leave each with exactly one empty request
// held, re-sent at once whenever it returns, as a browser does. After a settle
// time read RSS and fds again; then terminate every session and read them once
// more, which shows whether memory and fds go back (leaks).
//
// Per-session figures are (RSS with N - RSS with 0, warm) / N. They include
// everything the process keeps for a session: its state, the held HTTP request
// and its TCP connection, the upstream XMPP connection, and allocator slack.
// Kernel socket buffers are not in RSS. The switchboard run also shows what
// Prosody itself spends on the N plain c2s sessions behind it, so the
// whole-stack cost can be compared with Prosody serving BOSH on its own.
//
// Everything runs on 127.0.0.1 in private temp folders, the whole run is bounded
// (3 minutes by default, --timeout), and every process started is stopped by
// PID at the end, also on failure, timeout or Ctrl-C.

const { LightBoshSession } = require('../tests/lib/bosh_light_client');
const { inPool, percentile } = require('../tests/lib/pool');
const { startProsody, startSwitchboard, stop, stopAll, userName, PASSWORD } = require('../tests/lib/prosody_stack');
const { snapshot, MiB } = require('../tests/lib/proc_stats');
const { tail } = require('../tests/lib/proc');
const fs = require('node:fs');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function parseArgs(argv) {
  const opts = { sessions: 1000, concurrency: 50, wait: 60, settle: 5, warmup: 10, timeout: 180, direct: true, baselineBin: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const key = arg.replace(/^--/, '');
    if (arg === '--skip-direct') opts.direct = false;
    else if (arg === '--baseline-bin') {
      opts.baselineBin = argv[++i] && require('node:path').resolve(argv[i]);
      if (!opts.baselineBin || !fs.existsSync(opts.baselineBin)) throw new Error('--baseline-bin needs an existing binary');
    }
    else if (arg.startsWith('--') && key in opts && typeof opts[key] === 'number') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 0) throw new Error(`${arg} needs a whole number`);
      opts[key] = value;
    } else throw new Error(`unknown argument ${arg} (see the comment at the top of this file)`);
  }
  return opts;
}

/** Logs `count` sessions in from user `first` on; returns them (failed ones too). */
async function logIn(url, first, count, opts, { idle }) {
  const sessions = Array.from({ length: count }, () => new LightBoshSession(url, { wait: opts.wait }));
  const errors = await inPool(sessions.map((s, i) => [s, first + i]), opts.concurrency, async ([session, index]) => {
    const started = Date.now();
    try {
      await session.login(userName(index), PASSWORD);
    } catch (err) {
      session.destroy();
      session.loginError = err;
      throw err;
    }
    session.loginMs = Date.now() - started;
    if (idle) session.startIdling();
  });
  return { sessions, errors };
}

async function terminateAll(sessions, opts) {
  const live = sessions.filter((s) => !s.loginError);
  const errors = await inPool(live, opts.concurrency, (s) => s.terminate());
  for (const s of sessions) s.destroy();
  return errors;
}

/**
 * One endpoint, start to stop. `kind` is 'switchboard' or 'prosody'. Returns
 * the snapshots and notes for the report.
 */
async function measureEndpoint(kind, opts, log) {
  const viaSwitchboard = kind === 'switchboard' || kind === 'baseline';
  const total = opts.sessions + opts.warmup;
  const prosody = await startProsody({ users: total, bosh: !viaSwitchboard, inactivity: 90 });
  const savedBin = process.env.SWITCHBOARD_BIN;
  if (kind === 'baseline') process.env.SWITCHBOARD_BIN = opts.baselineBin;
  let switchboard;
  try {
    switchboard = viaSwitchboard ? await startSwitchboard(prosody, { log_level: 'warn' }) : null;
  } finally {
    if (savedBin === undefined) delete process.env.SWITCHBOARD_BIN;
    else process.env.SWITCHBOARD_BIN = savedBin;
  }
  const url = viaSwitchboard ? switchboard.boshUrl : prosody.boshUrl;
  const endpointPid = viaSwitchboard ? switchboard.child.pid : prosody.child.pid;
  const result = { kind, url, notes: [], binary: switchboard && switchboard.binary };
  const take = () => ({ endpoint: snapshot(endpointPid), prosody: snapshot(prosody.child.pid), at: Date.now() });
  let sessions = [];
  try {
    await sleep(1000);
    result.cold = take();

    // Warm-up: first-use costs (code paged in, TLS/XML/allocator set-up) are
    // not per-session costs; pay them before the 0-session reading.
    const warm = await logIn(url, opts.sessions, opts.warmup, opts, { idle: false });
    if (warm.errors.length) throw new Error(`warm-up login failed: ${warm.errors[0].message}`);
    await terminateAll(warm.sessions, opts);
    await sleep(2000);
    result.zero = take();
    log(`${kind}: 0 sessions: RSS ${MiB(result.zero.endpoint.rss)}, ${result.zero.endpoint.fds} fds; logging ${opts.sessions} in...`);

    const loginStarted = Date.now();
    result.beforeLogin = take();
    const login = await logIn(url, 0, opts.sessions, opts, { idle: true });
    result.afterLogin = take();
    sessions = login.sessions;
    result.loginSeconds = (Date.now() - loginStarted) / 1000;
    result.loginErrors = login.errors;
    const loginMs = sessions.filter((s) => s.loginMs).map((s) => s.loginMs);
    result.loginLatency = { p50: percentile(loginMs, 50), p99: percentile(loginMs, 99), max: Math.max(...loginMs) };
    log(`${kind}: ${loginMs.length} logged in in ${result.loginSeconds.toFixed(1)} s (${login.errors.length} failed); settling ${opts.settle} s`);

    await sleep(opts.settle * 1000);
    result.loaded = take();
    result.idling = sessions.filter((s) => s.idling && !s.error).length;
    result.idleErrors = sessions.filter((s) => s.error).map((s) => s.error.message);
    result.polls = sessions.reduce((n, s) => n + s.polls, 0);

    const terminateErrors = await terminateAll(sessions, opts);
    if (terminateErrors.length) result.notes.push(`${terminateErrors.length} terminate requests failed, first: ${terminateErrors[0].message}`);
    await sleep(2000);
    result.after = take();
  } finally {
    for (const s of sessions) s.destroy();
    if (switchboard) {
      result.switchboardLog = fs.readFileSync(switchboard.logFile, 'utf8');
      const stopping = Date.now();
      await stop(switchboard);
      result.switchboardStopMs = Date.now() - stopping;
    }
    result.prosodyErrors = tail(prosody.dir + '/prosody.err', 20);
    const stopping = Date.now();
    await stop(prosody);
    log(`${kind}: stopped (switchboard ${result.switchboardStopMs ?? '-'} ms, Prosody ${Date.now() - stopping} ms)`);
  }
  return result;
}

const perSession = (loaded, zero, n) => Math.round((loaded - zero) / n);

function report(results, opts) {
  const lines = [];
  const out = (s = '') => lines.push(s);
  const names = { switchboard: 'switchboard', baseline: 'baseline bin', prosody: 'Prosody mod_bosh' };
  const cols = results.map((r) => names[r.kind]);
  const row = (label, values) => out(`${label.padEnd(40)}${values.map((v) => String(v).padStart(18)).join('')}`);
  out(`idle BOSH sessions: ${opts.sessions} logged in (wait=${opts.wait} hold=1), one empty request held each, ${opts.concurrency} logins at a time`);
  out(`date ${new Date().toISOString()}, node ${process.version}, ${require('node:os').cpus().length} cores`);
  for (const r of results.filter((x) => x.binary)) {
    out(`${names[r.kind]} binary ${r.binary}, built ${fs.statSync(r.binary).mtime.toISOString()}`);
  }
  out();
  row('', cols);
  row('logged in / idling after settle', results.map((r) => `${r.sessions - r.loginErrors.length} / ${r.idling}`));
  row('login time for all (s)', results.map((r) => r.loginSeconds.toFixed(1)));
  row('one login p50 / p99 / max (ms)', results.map((r) => `${r.loginLatency.p50}/${r.loginLatency.p99}/${r.loginLatency.max}`));
  const cpuPerLogin = (r, who) => ((r.afterLogin[who].cpu - r.beforeLogin[who].cpu) * 1000 / (r.sessions - r.loginErrors.length)).toFixed(2);
  row('endpoint CPU per login (ms)', results.map((r) => cpuPerLogin(r, 'endpoint')));
  row('endpoint RSS, cold start', results.map((r) => MiB(r.cold.endpoint.rss)));
  row('endpoint RSS, 0 sessions (after warm-up)', results.map((r) => MiB(r.zero.endpoint.rss)));
  row(`endpoint RSS, ${opts.sessions} sessions`, results.map((r) => MiB(r.loaded.endpoint.rss)));
  row('endpoint RSS delta per session (bytes)', results.map((r) => perSession(r.loaded.endpoint.rss, r.zero.endpoint.rss, opts.sessions)));
  row('  of which anonymous (bytes)', results.map((r) => perSession(r.loaded.endpoint.anon, r.zero.endpoint.anon, opts.sessions)));
  row('endpoint processes', results.map((r) => r.loaded.endpoint.processes));
  row('endpoint fds, 0 / N sessions', results.map((r) => `${r.zero.endpoint.fds} / ${r.loaded.endpoint.fds}`));
  row('endpoint RSS / fds after terminating all', results.map((r) => `${MiB(r.after.endpoint.rss)} / ${r.after.endpoint.fds}`));
  const sb = results.find((r) => r.kind === 'switchboard');
  const direct = results.find((r) => r.kind === 'prosody');
  const baseline = results.find((r) => r.kind === 'baseline');
  if (sb) {
    row('Prosody behind switchboard: RSS 0 / N', [`${MiB(sb.zero.prosody.rss)} / ${MiB(sb.loaded.prosody.rss)}`]);
    row('  delta per c2s session (bytes)', [perSession(sb.loaded.prosody.rss, sb.zero.prosody.rss, opts.sessions)]);
    row('  fds 0 / N', [`${sb.zero.prosody.fds} / ${sb.loaded.prosody.fds}`]);
    row('  CPU per login (ms)', [cpuPerLogin(sb, 'prosody')]);
  }
  if (sb && baseline) {
    const now = perSession(sb.loaded.endpoint.rss, sb.zero.endpoint.rss, opts.sessions);
    const before = perSession(baseline.loaded.endpoint.rss, baseline.zero.endpoint.rss, opts.sessions);
    out();
    out(`ratio switchboard / baseline binary, bytes per idle session: ${now} / ${before} = ${(now / before).toFixed(3)}`);
  }
  if (sb && direct) {
    const sbPer = perSession(sb.loaded.endpoint.rss, sb.zero.endpoint.rss, opts.sessions);
    const prosodyC2s = perSession(sb.loaded.prosody.rss, sb.zero.prosody.rss, opts.sessions);
    const directPer = perSession(direct.loaded.endpoint.rss, direct.zero.endpoint.rss, opts.sessions);
    out();
    out(`ratio switchboard / Prosody mod_bosh, bytes per idle session: ${sbPer} / ${directPer} = ${(sbPer / directPer).toFixed(3)}`);
    out(`whole stack (switchboard + Prosody c2s) / Prosody mod_bosh: ${sbPer + prosodyC2s} / ${directPer} = ${((sbPer + prosodyC2s) / directPer).toFixed(3)}`);
  }
  for (const r of results) {
    if (r.loginErrors.length) out(`${r.kind}: ${r.loginErrors.length} logins failed, first: ${r.loginErrors[0].message}`);
    if (r.idleErrors.length) out(`${r.kind}: ${r.idleErrors.length} idle sessions broke, first: ${r.idleErrors[0]}`);
    for (const note of r.notes) out(`${r.kind}: ${note}`);
    out(`${r.kind}: ${r.polls} idle polls answered (empty, after wait) before the terminates`);
  }
  if (sb) {
    const logLines = sb.switchboardLog.split('\n').filter((l) => l && !l.startsWith('[harness]'));
    out(`switchboard stderr (log level warn): ${logLines.length} lines${logLines.length ? ', first ones:' : ''}`);
    for (const l of logLines.slice(0, 10)) out(`  ${l}`);
  }
  for (const r of results) {
    const errs = r.prosodyErrors.split('\n').filter((l) => l && !l.startsWith('(no log'));
    if (errs.length) out(`Prosody error log (${r.kind} run): ${errs.slice(0, 5).join(' | ')}`);
  }
  return lines.join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const log = (msg) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
  const deadline = setTimeout(async () => {
    log(`overall timeout (${opts.timeout} s): stopping everything`);
    await stopAll();
    process.exit(2);
  }, opts.timeout * 1000);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, async () => {
      log(`${signal}: stopping everything`);
      await stopAll();
      process.exit(130);
    });
  }
  const results = [];
  try {
    const kinds = ['switchboard', ...(opts.baselineBin ? ['baseline'] : []), ...(opts.direct ? ['prosody'] : [])];
    for (const kind of kinds) {
      const result = await measureEndpoint(kind, opts, log);
      result.sessions = opts.sessions;
      results.push(result);
    }
    console.log(report(results, opts));
  } catch (err) {
    console.error(`idle_sessions failed: ${err.stack || err.message}`);
    process.exitCode = 1;
  } finally {
    await stopAll();
    clearTimeout(deadline);
  }
}

main();
