#!/usr/bin/env node
'use strict';
// Memory cost of idle XMPP-over-WebSocket sessions (RFC 7395): how much
// user-space memory (RSS) an endpoint grows by for each logged-in WebSocket
// session that just sits there, measured for switchboard and, in the same
// invocation, for Prosody's own mod_websocket as the baseline. The sibling of
// bench/idle_sessions.js (BOSH), with the same method.
//
//   node bench/ws_idle_sessions.js [--sessions 1000] [--concurrency 50]
//       [--settle 5] [--warmup 10] [--timeout 180] [--skip-direct]
//
// For each endpoint: a fresh private Prosody with N accounts (switchboard in
// front of its plain c2s port, --log-level warn, or Prosody's mod_websocket
// itself), a few warm-up sessions logged in and out, RSS and fds read with 0
// sessions, N sessions logged in over WebSocket (<open/>, SASL PLAIN, restart,
// bind, session, presence; a bounded number at a time), a settle time, RSS and
// fds again, then every session closed (<close/> and the closing handshake) and
// a last reading (memory and fds should go back).
//
// Per-session figures are (RSS with N - RSS with 0, warm) / N: for switchboard
// that is both of its connections (the client's WebSocket and the upstream c2s
// stream) with their user-space state and allocator slack. Kernel socket
// buffers are not in RSS. The switchboard run also shows Prosody's own cost of
// the N plain c2s sessions behind it.
//
// Everything runs on 127.0.0.1 in private temp folders, bounded by --timeout,
// and every process started is stopped by PID at the end, also on failure.

const fs = require('node:fs');
const { LightWsSession } = require('./ws_light_client');
const { inPool, percentile } = require('./pool');
const { startProsody, startSwitchboard, stop, stopAll, userName, PASSWORD } = require('./bench_stack');
const { snapshot, MiB } = require('./proc_stats');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function parseArgs(argv) {
  const opts = { sessions: 1000, concurrency: 50, settle: 5, warmup: 10, timeout: 180, direct: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const key = arg.replace(/^--/, '');
    if (arg === '--skip-direct') opts.direct = false;
    else if (arg.startsWith('--') && key in opts && typeof opts[key] === 'number') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 0) throw new Error(`${arg} needs a whole number`);
      opts[key] = value;
    } else throw new Error(`unknown argument ${arg} (see the comment at the top of this file)`);
  }
  return opts;
}

async function logIn(url, first, count, opts) {
  const sessions = Array.from({ length: count }, () => new LightWsSession(url));
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
  });
  return { sessions, errors };
}

async function logOutAll(sessions, opts) {
  const live = sessions.filter((s) => !s.loginError);
  const errors = await inPool(live, opts.concurrency, (s) => s.logout());
  for (const s of sessions) s.destroy();
  return errors;
}

async function measureEndpoint(kind, opts, log) {
  const viaSwitchboard = kind === 'switchboard';
  const prosody = await startProsody({ users: opts.sessions + opts.warmup, bosh: !viaSwitchboard });
  const switchboard = viaSwitchboard ? await startSwitchboard(prosody, { log_level: 'warn' }) : null;
  const url = viaSwitchboard ? switchboard.wsUrl : prosody.wsUrl;
  const endpointPid = viaSwitchboard ? switchboard.child.pid : prosody.child.pid;
  const result = { kind, url, notes: [], binary: switchboard && switchboard.binary };
  const take = () => ({ endpoint: snapshot(endpointPid), prosody: snapshot(prosody.child.pid) });
  let sessions = [];
  try {
    await sleep(1000);
    const warm = await logIn(url, opts.sessions, opts.warmup, opts);
    if (warm.errors.length) throw new Error(`warm-up login failed: ${warm.errors[0].message}`);
    await logOutAll(warm.sessions, opts);
    await sleep(2000);
    result.zero = take();
    log(`${kind}: 0 sessions: RSS ${MiB(result.zero.endpoint.rss)}, ${result.zero.endpoint.fds} fds; logging ${opts.sessions} in...`);
    const started = Date.now();
    const login = await logIn(url, 0, opts.sessions, opts);
    sessions = login.sessions;
    result.loginSeconds = (Date.now() - started) / 1000;
    result.loginErrors = login.errors;
    const loginMs = sessions.filter((s) => s.loginMs).map((s) => s.loginMs);
    result.loginLatency = { p50: percentile(loginMs, 50), p99: percentile(loginMs, 99) };
    log(`${kind}: ${loginMs.length} logged in in ${result.loginSeconds.toFixed(1)} s (${login.errors.length} failed); settling ${opts.settle} s`);
    await sleep(opts.settle * 1000);
    result.loaded = take();
    result.open = sessions.filter((s) => s.client && !s.client.tcpEnded).length;
    const logoutErrors = await logOutAll(sessions, opts);
    if (logoutErrors.length) result.notes.push(`${logoutErrors.length} logouts failed, first: ${logoutErrors[0].message}`);
    await sleep(2000);
    result.after = take();
  } finally {
    for (const s of sessions) s.destroy();
    if (switchboard) {
      result.switchboardLog = fs.readFileSync(switchboard.logFile, 'utf8');
      await stop(switchboard);
    }
    await stop(prosody);
    log(`${kind}: stopped`);
  }
  return result;
}

const perSession = (loaded, zero, n) => Math.round((loaded - zero) / n);

function report(results, opts) {
  const lines = [];
  const out = (s = '') => lines.push(s);
  const names = { switchboard: 'switchboard', prosody: 'Prosody mod_websocket' };
  const row = (label, values) => out(`${label.padEnd(40)}${values.map((v) => String(v).padStart(22)).join('')}`);
  out(`idle WebSocket sessions: ${opts.sessions} logged in, ${opts.concurrency} logins at a time`);
  out(`date ${new Date().toISOString()}, node ${process.version}, ${require('node:os').cpus().length} cores`);
  for (const r of results.filter((x) => x.binary)) out(`switchboard binary ${r.binary}, built ${fs.statSync(r.binary).mtime.toISOString()}`);
  out();
  row('', results.map((r) => names[r.kind]));
  row('logged in / open after settle', results.map((r) => `${opts.sessions - r.loginErrors.length} / ${r.open}`));
  row('login time for all (s)', results.map((r) => r.loginSeconds.toFixed(1)));
  row('one login p50 / p99 (ms)', results.map((r) => `${r.loginLatency.p50}/${r.loginLatency.p99}`));
  row('endpoint RSS, 0 sessions (after warm-up)', results.map((r) => MiB(r.zero.endpoint.rss)));
  row(`endpoint RSS, ${opts.sessions} sessions`, results.map((r) => MiB(r.loaded.endpoint.rss)));
  row('endpoint RSS delta per session (bytes)', results.map((r) => perSession(r.loaded.endpoint.rss, r.zero.endpoint.rss, opts.sessions)));
  row('  of which anonymous (bytes)', results.map((r) => perSession(r.loaded.endpoint.anon, r.zero.endpoint.anon, opts.sessions)));
  row('endpoint fds, 0 / N sessions', results.map((r) => `${r.zero.endpoint.fds} / ${r.loaded.endpoint.fds}`));
  row('endpoint RSS / fds after closing all', results.map((r) => `${MiB(r.after.endpoint.rss)} / ${r.after.endpoint.fds}`));
  const sb = results.find((r) => r.kind === 'switchboard');
  const direct = results.find((r) => r.kind === 'prosody');
  if (sb) {
    row('Prosody behind switchboard: RSS 0 / N', [`${MiB(sb.zero.prosody.rss)} / ${MiB(sb.loaded.prosody.rss)}`]);
    row('  delta per c2s session (bytes)', [perSession(sb.loaded.prosody.rss, sb.zero.prosody.rss, opts.sessions)]);
  }
  if (sb && direct) {
    const sbPer = perSession(sb.loaded.endpoint.rss, sb.zero.endpoint.rss, opts.sessions);
    const prosodyC2s = perSession(sb.loaded.prosody.rss, sb.zero.prosody.rss, opts.sessions);
    const directPer = perSession(direct.loaded.endpoint.rss, direct.zero.endpoint.rss, opts.sessions);
    out();
    out(`ratio switchboard / Prosody mod_websocket, bytes per idle session: ${sbPer} / ${directPer} = ${(sbPer / directPer).toFixed(3)}`);
    out(`whole stack (switchboard + Prosody c2s) / Prosody mod_websocket: ${sbPer + prosodyC2s} / ${directPer} = ${((sbPer + prosodyC2s) / directPer).toFixed(3)}`);
  }
  for (const r of results) {
    if (r.loginErrors.length) out(`${r.kind}: ${r.loginErrors.length} logins failed, first: ${r.loginErrors[0].message}`);
    for (const note of r.notes) out(`${r.kind}: ${note}`);
  }
  if (sb) {
    const logLines = sb.switchboardLog.split('\n').filter((l) => l && !l.startsWith('[harness]'));
    out(`switchboard stderr (log level warn): ${logLines.length} lines`);
    for (const l of logLines.slice(0, 10)) out(`  ${l}`);
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
      await stopAll();
      process.exit(130);
    });
  }
  const results = [];
  try {
    for (const kind of ['switchboard', ...(opts.direct ? ['prosody'] : [])]) results.push(await measureEndpoint(kind, opts, log));
    console.log(report(results, opts));
  } catch (err) {
    console.error(`ws_idle_sessions failed: ${err.stack || err.message}`);
    process.exitCode = 1;
  } finally {
    await stopAll();
    clearTimeout(deadline);
  }
}

main();
