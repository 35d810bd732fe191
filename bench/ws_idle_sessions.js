#!/usr/bin/env node
'use strict';
// Memory cost of idle XMPP-over-WebSocket sessions (RFC 7395): how much
// user-space memory (RSS) an endpoint grows by for each logged-in WebSocket
// session that just sits there, measured in ONE invocation for
//   - switchboard's /xmpp-websocket in front of a real Prosody and in front of a
//     real ejabberd: every switchboard process (the tree of its PID), and the
//     server's plain c2s sessions behind it;
//   - Prosody's own mod_websocket and ejabberd's own ejabberd_http_ws;
// plus the message latency of a few chatting sessions while the N idle ones are
// held. Figures are printed as ratios against the servers' own WebSocket (and
// against --baseline-bin, another switchboard build, if given). The BOSH
// sibling is bench/idle_sessions.js.
//
//   node bench/ws_idle_sessions.js [--sessions 2000] [--rate 100] [--settle 5]
//       [--chat 100] [--chat-rate 100] [--chat-seconds 10] [--skip-ejabberd]
//       [--skip-direct] [--baseline-bin PATH] [--timeout 900]
//
// --skip-ejabberd leaves ejabberd out (Prosody only), --skip-direct the servers'
// own WebSocket (switchboard only, no ratios).
//
// The clients are switchboard-soak --transport websocket (SOAK_BIN, else
// build/src/tools/soak/switchboard-soak), which logs each session in (SASL
// PLAIN, restart, bind, presence) and then holds it on one connection, idle.
// For each endpoint: fresh servers with N + chat + warm-up accounts; a warm-up
// run of 20 sessions logged in and out (first-use costs are not per-session
// costs); the reading with 0 sessions; N idle sessions logged in at --rate; once
// all are up (read from the soak's progress lines), --settle seconds, the
// loaded reading; then --chat sessions chat in pairs at --chat-rate messages/s
// for --chat-seconds beside the idle ones (latency from the intended send time,
// no coordinated omission); then everything stops and a last reading shows
// whether memory goes back. Per-session figure = (RSS loaded - RSS at 0) / N.
//
// Everything runs on 127.0.0.1 in private temp folders, bounded by --timeout,
// and every process started is stopped by PID (the soak by its process group)
// at the end, also on failure, timeout or Ctrl-C.

const fs = require('node:fs');
const path = require('node:path');
const { Switchboard } = require('../tests/lib/switchboard');
const { snapshot, MiB } = require('../tests/lib/proc_stats');
const { startSoak, startServer: startFreshServer, track, stopFrontAndServer, stopAll, stopOnTimeoutOrSignal } = require('./lib/soak_run');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const WARMUP = 20;

function parseArgs(argv) {
  const opts = { sessions: 2000, rate: 100, settle: 5, chat: 100, 'chat-rate': 100, 'chat-seconds': 10, timeout: 900,
    ejabberd: true, direct: true, baselineBin: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const key = arg.replace(/^--/, '');
    if (arg === '--skip-direct') opts.direct = false;
    else if (arg === '--skip-ejabberd') opts.ejabberd = false;
    else if (arg === '--baseline-bin') {
      opts.baselineBin = argv[++i] && path.resolve(argv[i]);
      if (!opts.baselineBin || !fs.existsSync(opts.baselineBin)) throw new Error('--baseline-bin needs an existing binary');
    } else if (arg.startsWith('--') && key in opts && typeof opts[key] === 'number') {
      const value = Number(argv[++i]);
      if (!(value >= 0)) throw new Error(`${arg} needs a number`);
      opts[key] = value;
    } else throw new Error(`unknown argument ${arg} (see the comment at the top of this file)`);
  }
  if (opts.chat % 2) opts.chat += 1;  // pairs
  return opts;
}

const login = (url, first, count) => ['--url', url, '--transport', 'websocket', '--domain', 'localhost',
  '--user-pattern', 'w%d', '--password', 'p%d', '--first-user', String(first), '--sessions', String(count)];

const startServer = (kind, users) => startFreshServer(kind, users, {
  user: (i) => `w${i}`, password: (i) => `p${i}`, options: kind === 'ejabberd' ? {} : { websocket: true } });

/**
 * One endpoint, start to stop. `kind`: 'switchboard' (or 'baseline', the same
 * with --baseline-bin) in front of `serverKind`, or 'direct' (the server's own
 * WebSocket).
 */
async function measure(kind, serverKind, opts, log) {
  const n = opts.sessions;
  const server = await startServer(serverKind, WARMUP + n + opts.chat);
  let switchboard = null;
  if (kind !== 'direct') {
    const saved = process.env.SWITCHBOARD_BIN;
    if (kind === 'baseline') process.env.SWITCHBOARD_BIN = opts.baselineBin;
    try {
      switchboard = new Switchboard({ upstreamPort: server.c2sPort, settings: { log_level: 'warn' } });
      switchboard.front = true;
      track(switchboard);
      await switchboard.start();
    } finally {
      if (saved === undefined) delete process.env.SWITCHBOARD_BIN;
      else process.env.SWITCHBOARD_BIN = saved;
    }
  }
  const url = switchboard ? switchboard.wsUrl : server.wsUrl;
  const endpointPid = switchboard ? switchboard.child.pid : server.child.pid;
  const take = () => ({ endpoint: snapshot(endpointPid), server: snapshot(server.child.pid) });
  const name = `${kind === 'direct' ? `${serverKind}'s own` : `${kind} -> ${serverKind}`}`;
  const r = { kind, serverKind, name, url, binary: switchboard && switchboard.binary, notes: [] };
  try {
    const warm = startSoak([...login(url, 1, WARMUP), '--rate', '20', '--duration', '3', '--drain', '0'], WARMUP);
    const w = await warm.done;
    if (!w.report || w.report.sessions_established !== WARMUP) throw new Error(`${name}: warm-up failed:\n${w.output.slice(-2000)}`);
    await sleep(2000);
    r.zero = take();
    log(`${name}: 0 sessions: RSS ${MiB(r.zero.endpoint.rss)}; logging ${n} in at ${opts.rate}/s`);

    const started = Date.now();
    const idleDuration = n / opts.rate + 120 + opts.settle + opts['chat-seconds'];
    const idle = startSoak([...login(url, WARMUP + 1, n), '--rate', String(opts.rate), '--duration', String(idleDuration),
      '--msg-rate', '0', '--drain', '0', '--connect-timeout', '30000'], n);
    await idle.up;
    r.loginSeconds = (Date.now() - started) / 1000;
    r.loginErrors = idle.errors();
    if (idle.child.exitCode !== null) throw new Error(`${name}: the idle soak ended early:\n${(await idle.done).output.slice(-3000)}`);
    log(`${name}: ${n} up in ${r.loginSeconds.toFixed(1)} s; settling ${opts.settle} s`);
    await sleep(opts.settle * 1000);
    r.loaded = take();
    r.online = idle.online();
    if (r.online < n) r.notes.push(`${n - r.online} of ${n} logins failed (${r.loginErrors} errors); figures are per online session`);

    const chat = startSoak([...login(url, WARMUP + n + 1, opts.chat), '--rate', String(Math.max(opts.chat, 10)),
      '--duration', String(opts['chat-seconds']), '--msg-rate', String(opts['chat-rate']), '--drain', '5'], opts.chat);
    const c = await chat.done;
    if (!c.report) throw new Error(`${name}: the chat soak wrote no report:\n${c.output.slice(-3000)}`);
    r.chat = c.report;
    if (idle.child.exitCode !== null) r.notes.push('the idle soak ended before the chat run did');
    await idle.stop();
    await sleep(3000);
    r.after = take();
  } finally {
    await stopFrontAndServer(switchboard, server, r.notes, log, name);
  }
  return r;
}

const per = (loaded, zero, n) => Math.round((loaded - zero) / n);

function report(results, opts) {
  const n = opts.sessions;
  const lines = [];
  const out = (s = '') => lines.push(s);
  const row = (label, values) => out(`${label.padEnd(36)}${values.map((v) => String(v).padStart(26)).join('')}`);
  out(`idle WebSocket sessions (RFC 7395): ${n} logged in at ${opts.rate}/s and held idle, one connection each;`);
  out(`then ${opts.chat} more chat in pairs at ${opts['chat-rate']} msg/s for ${opts['chat-seconds']} s beside them`);
  out(`date ${new Date().toISOString()}, node ${process.version}, ${require('node:os').cpus().length} cores, load ${require('node:os').loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  for (const r of results.filter((x) => x.binary)) out(`${r.name}: binary ${r.binary}`);
  out();
  row('', results.map((r) => r.name));
  row('online at the reading', results.map((r) => r.online));
  row('login time for all (s)', results.map((r) => r.loginSeconds.toFixed(1)));
  row('endpoint RSS 0 / N sessions', results.map((r) => `${MiB(r.zero.endpoint.rss)} / ${MiB(r.loaded.endpoint.rss)}`));
  row('endpoint RSS per session (bytes)', results.map((r) => per(r.loaded.endpoint.rss, r.zero.endpoint.rss, r.online)));
  row('  of which anonymous (bytes)', results.map((r) => per(r.loaded.endpoint.anon, r.zero.endpoint.anon, r.online)));
  row('endpoint processes / fds at N', results.map((r) => `${r.loaded.endpoint.processes} / ${r.loaded.endpoint.fds}`));
  row('server c2s behind it, per session', results.map((r) => (r.kind === 'direct' ? '-' : per(r.loaded.server.rss, r.zero.server.rss, r.online))));
  row('whole stack per session (bytes)', results.map((r) => (r.kind === 'direct'
    ? per(r.loaded.endpoint.rss, r.zero.endpoint.rss, r.online)
    : per(r.loaded.endpoint.rss, r.zero.endpoint.rss, r.online) + per(r.loaded.server.rss, r.zero.server.rss, r.online))));
  row('endpoint RSS after all left', results.map((r) => MiB(r.after.endpoint.rss)));
  row('chat: sent / received / lost', results.map((r) => `${r.chat.messages_sent} / ${r.chat.messages_received} / ${r.chat.messages_lost}`));
  row('chat latency p50 / p99 / max (ms)', results.map((r) => `${r.chat.latency_ms.p50.toFixed(2)} / ${r.chat.latency_ms.p99.toFixed(2)} / ${r.chat.latency_ms.max.toFixed(1)}`));
  row('chat errors', results.map((r) => `${r.chat.errors}${r.chat.generator.overloaded ? ' (gen. overloaded)' : ''}`));
  out();
  for (const serverKind of ['prosody', 'ejabberd']) {
    const sb = results.find((r) => r.kind === 'switchboard' && r.serverKind === serverKind);
    const direct = results.find((r) => r.kind === 'direct' && r.serverKind === serverKind);
    const base = results.find((r) => r.kind === 'baseline' && r.serverKind === serverKind);
    if (!sb) continue;
    const sbPer = per(sb.loaded.endpoint.rss, sb.zero.endpoint.rss, sb.online);
    const c2s = per(sb.loaded.server.rss, sb.zero.server.rss, sb.online);
    if (direct) {
      const own = per(direct.loaded.endpoint.rss, direct.zero.endpoint.rss, direct.online);
      out(`ratio switchboard / ${serverKind}'s own WebSocket, bytes per idle session: ${sbPer} / ${own} = ${(sbPer / own).toFixed(3)}`);
      out(`whole stack (switchboard + ${serverKind} c2s) / ${serverKind}'s own WebSocket: ${sbPer + c2s} / ${own} = ${((sbPer + c2s) / own).toFixed(3)}`);
      out(`ratio of chat latency p50, switchboard / ${serverKind}'s own: ${sb.chat.latency_ms.p50.toFixed(2)} / ${direct.chat.latency_ms.p50.toFixed(2)} = ${(sb.chat.latency_ms.p50 / direct.chat.latency_ms.p50).toFixed(2)}; p99: ${(sb.chat.latency_ms.p99 / direct.chat.latency_ms.p99).toFixed(2)}`);
    }
    if (base) {
      const before = per(base.loaded.endpoint.rss, base.zero.endpoint.rss, base.online);
      out(`ratio switchboard / baseline binary (${serverKind}), bytes per idle session: ${sbPer} / ${before} = ${(sbPer / before).toFixed(3)}`);
    }
  }
  for (const r of results) for (const note of r.notes) out(`${r.name}: ${note}`);
  return lines.join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // The harness starts switchboard in a temp folder: a relative path would not resolve there.
  for (const key of ['SWITCHBOARD_BIN', 'SOAK_BIN']) {
    if (process.env[key]) process.env[key] = path.resolve(process.env[key]);
  }
  const log = (msg) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
  const cancelTimeout = stopOnTimeoutOrSignal(opts.timeout, log);
  const plan = [['switchboard', 'prosody']];
  if (opts.baselineBin) plan.push(['baseline', 'prosody']);
  if (opts.direct) plan.push(['direct', 'prosody']);
  if (opts.ejabberd) {
    plan.push(['switchboard', 'ejabberd']);
    if (opts.direct) plan.push(['direct', 'ejabberd']);
  }
  const results = [];
  try {
    for (const [kind, serverKind] of plan) results.push(await measure(kind, serverKind, opts, log));
    console.log(report(results, opts));
  } catch (err) {
    console.error(`ws_idle_sessions failed: ${err.stack || err.message}`);
    process.exitCode = 1;
  } finally {
    await stopAll();
    cancelTimeout();
  }
}

main();
