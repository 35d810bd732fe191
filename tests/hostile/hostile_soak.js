#!/usr/bin/env node
'use strict';
// Hostile soak: does switchboard keep serving well-behaved BOSH sessions, and
// keep its memory and file descriptors bounded, while being hammered with bad
// input for minutes on end?
//
//   node tests/hostile/hostile_soak.js [--minutes 10] [--good 200] [--rate 60] [--settle 30]
//
// (--rate: one-shot hostile actions started per second; the floods and the
// pools of slow connections come on top; --settle: seconds between the end of
// the hostile traffic and the final reading, longer than switchboard's
// inactivity of 20 s so that the hostile sessions are gone.)
//
// 1. Start a private Prosody with --good accounts and switchboard in front of it
//    (--set max_sessions_per_ip=50 inactivity=20 log_level=warn).
// 2. Log the good sessions in from 127.0.0.2-9 (hostile_good.js) and leave
//    each with a held request; read switchboard's RSS and fds: "start".
// 3. For --minutes: the good sessions chat in pairs (a message every 5-10 s
//    each, every one checked by id on arrival) while hostile clients from
//    127.0.0.10-200 send bad input (hostile_actions.js), create and abuse
//    sessions of their own and flood the per-address session cap
//    (hostile_sessions.js), and hold slow or non-reading connections
//    (hostile_slow.js). Every hostile answer is named and checked against
//    what docs/conformance.md and docs/configuration.md promise.
// 4. Stop the hostile traffic and the chatting, wait for the last messages,
//    wait --settle seconds, read RSS and fds again: "end". Terminate the good
//    sessions.
//
// Exit code 0 only if no good session saw an error, no message was lost or
// duplicated, switchboard is still alive at the end and, after the settle,
// holds no connection from a hostile address. ctest runs it as `hostile_soak`
// (label `hostile`) with --minutes 1 --good 40 (CMakeLists.txt here).
// Everything runs on loopback in private temp folders; the whole run is
// bounded by --minutes + 3 minutes, and every process started is stopped by
// PID, also on failure, timeout or Ctrl-C.

const fs = require('node:fs');
const os = require('node:os');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { startProsody, startSwitchboard, stopAll, userName, PASSWORD } = require('../lib/prosody_stack');
const { snapshot, MiB } = require('../lib/proc_stats');
const { GoodTraffic, GOOD_ADDRESSES } = require('./hostile_good');
const { Tally, sockets, addressRange, pick, sleep } = require('./hostile_wire');
const { ACTIONS, weightedPick, Pacer, runLoops } = require('./hostile_actions');
const { SESSION_ACTIONS, runFloods } = require('./hostile_sessions');
const { POOLS, runPool } = require('./hostile_slow');
const { fdBreakdown, holdsConnectionFrom, loopbackHost } = require('./hostile_fds');
const { tail } = require('../lib/proc');

const SESSIONS_PER_IP = 50;
const INACTIVITY = 20;
const FLOOD_ADDRESSES = addressRange(10, 59); // one flood at a time, round robin
const OTHER_HOSTILE = addressRange(60, 200); // own sessions: never near the cap
const ALL_HOSTILE = addressRange(10, 200);

function parseArgs(argv) {
  const opts = { minutes: 10, good: 200, rate: 60, settle: INACTIVITY + 10 };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (!argv[i].startsWith('--') || !(key in opts)) throw new Error(`unknown argument ${argv[i]} (see the comment at the top of this file)`);
    const value = Number(argv[++i]);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${key} needs a positive number`);
    opts[key] = value;
  }
  if (opts.good % 2 !== 0) throw new Error('--good must be even: the good sessions chat in pairs');
  if (opts.good > GOOD_ADDRESSES.length * SESSIONS_PER_IP) {
    throw new Error(`--good over ${GOOD_ADDRESSES.length * SESSIONS_PER_IP} would hit max_sessions_per_ip=${SESSIONS_PER_IP} from ${GOOD_ADDRESSES.length} addresses`);
  }
  return opts;
}

const log = (msg) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function soak(opts) {
  const result = { opts, samples: [] };
  const prosody = await startProsody({ users: opts.good });
  const switchboard = await startSwitchboard(prosody, {
    max_sessions_per_ip: SESSIONS_PER_IP, inactivity: INACTIVITY, log_level: 'warn',
  });
  result.binary = switchboard.binary;
  result.binaryBuilt = fs.statSync(switchboard.binary).mtime; // now: others may rebuild it during the run
  result.switchboard = switchboard;
  const sbPid = switchboard.child.pid;
  const take = () => ({ sb: snapshot(sbPid), prosody: snapshot(prosody.child.pid), at: Date.now() });
  // Whose are switchboard's fds? A leaked hostile connection shows up by its peer address.
  const whose = () => fdBreakdown(sbPid, ({ remote }) => {
    if (remote.port === prosody.c2sPort) return 'to Prosody (upstream streams)';
    const host = loopbackHost(remote.ip);
    if (host >= 2 && host <= 9) return 'from good clients';
    if (host >= 10 && host <= 200) return 'from hostile addresses';
    return 'other TCP';
  });
  result.cold = take();

  const good = new GoodTraffic(switchboard.boshUrl, opts.good, { userName, password: PASSWORD });
  result.good = good;
  log(`logging ${opts.good} good sessions in from ${GOOD_ADDRESSES[0]}-${GOOD_ADDRESSES.at(-1)}...`);
  const loginErrors = await good.logIn();
  log(`logged in in ${good.loginSeconds.toFixed(1)} s, ${loginErrors.length} failed`);
  if (loginErrors.length) throw new Error(`${loginErrors.length} good logins failed, first: ${loginErrors[0].message}`);
  await sleep(5000);
  result.start = take();
  result.startFds = whose();
  log(`start: switchboard RSS ${MiB(result.start.sb.rss)}, ${result.start.sb.fds} fds; hostile traffic for ${opts.minutes} min`);

  // The hostile phase.
  const tally = new Tally();
  result.tally = tally;
  const endAt = Date.now() + opts.minutes * 60000;
  const running = () => Date.now() < endAt && !switchboard.child.hasExited;
  const ctx = {
    port: switchboard.port, tally, running, address: () => pick(ALL_HOSTILE),
    switchboardHolds: (ip, port) => holdsConnectionFrom(sbPid, ip, port),
  };
  const sessionCtx = { ...ctx, address: () => pick(OTHER_HOSTILE) };
  const sampler = setInterval(() => {
    try {
      const s = take();
      result.samples.push(s);
      if (result.samples.length % 6 === 0) {
        log(`switchboard RSS ${MiB(s.sb.rss)}, ${s.sb.fds} fds; hostile actions ${tally.totalActions}, ` +
          `hostile sockets open ${sockets.open}; good messages ${good.ledger.messages.size}, errors ${good.sessions.reduce((n, x) => n + x.errorCount, 0)}`);
      }
    } catch { /* switchboard gone: noticed below */ }
  }, 10000);
  good.startSending();
  // Our own event loop's lag: every latency we measure includes it.
  const LOOP_SAMPLE_MS = 10; // the histogram holds whole sampling intervals: subtract this
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  loopDelay.enable();
  const cpuBefore = process.cpuUsage();
  const hostileStarted = Date.now();
  // One-shot actions from any hostile address; own-session ones away from the flood's.
  const mix = [...ACTIONS, ...SESSION_ACTIONS.map(([f, w]) => [Object.defineProperty(() => f(sessionCtx), 'name', { value: f.name }), w])];
  let floods = null;
  await Promise.all([
    runLoops({ loops: 32, pacer: new Pacer(opts.rate), running, pickAction: () => weightedPick(mix), ctx }),
    runFloods(ctx, { floodAddresses: FLOOD_ADDRESSES, cap: SESSIONS_PER_IP, inactivity: INACTIVITY, running, pauseMs: 3000 })
      .then((f) => { floods = f; }),
    ...POOLS.map(([make, size, ownSession]) => runPool(ownSession ? sessionCtx : ctx, size, make)),
  ]);
  if (floods) floods.cancelProbes();
  result.hostileSeconds = (Date.now() - hostileStarted) / 1000;
  loopDelay.disable();
  const lag = (ns) => Math.max(0, ns / 1e6 - LOOP_SAMPLE_MS);
  result.loopDelay = { p50: lag(loopDelay.percentile(50)), p99: lag(loopDelay.percentile(99)), max: lag(loopDelay.max) };
  const cpu = process.cpuUsage(cpuBefore);
  result.scriptCpu = (cpu.user + cpu.system) / 1e6;
  result.floods = ctx.floods;
  log(`hostile traffic stopped after ${result.hostileSeconds.toFixed(0)} s (${tally.totalActions} actions); draining messages, settling ${opts.settle} s`);

  good.stopSending();
  const settleEnd = Date.now() + opts.settle * 1000;
  await good.drain(15000);
  await sleep(Math.max(0, settleEnd - Date.now()));
  clearInterval(sampler);
  result.alive = !switchboard.child.hasExited && fs.existsSync(`/proc/${sbPid}`);
  if (result.alive) {
    result.end = take();
    result.endFds = whose();
  }
  result.exitStatus = switchboard.child.exitStatus;
  result.summary = good.summary();
  log(`terminating the good sessions`);
  if (result.alive) await good.terminateAll();
  good.destroy();
  result.afterTerminate = good.summary(); // terminate failures are errors too
  result.switchboardLog = fs.readFileSync(switchboard.logFile, 'utf8');
  result.prosodyErrors = tail(`${prosody.dir}/prosody.err`, 20);
  return result;
}

function report(r) {
  const lines = [];
  const out = (s = '') => lines.push(s);
  const { opts } = r;
  out(`hostile soak: ${opts.minutes} min of hostile traffic beside ${opts.good} good BOSH sessions`);
  out(`date ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const rebuilt = fs.statSync(r.binary).mtime.getTime() !== r.binaryBuilt.getTime() ? ' (rebuilt during the run)' : '';
  out(`switchboard ${r.binary}, built ${r.binaryBuilt.toISOString()}${rebuilt}, --set max_sessions_per_ip=${SESSIONS_PER_IP} inactivity=${INACTIVITY} log_level=warn`);
  out(`good sessions from ${GOOD_ADDRESSES[0]}-${GOOD_ADDRESSES.at(-1)}; hostile from ${ALL_HOSTILE[0]}-${ALL_HOSTILE.at(-1)} ` +
    `(floods ${FLOOD_ADDRESSES[0]}-${FLOOD_ADDRESSES.at(-1)}, own sessions ${OTHER_HOSTILE[0]}-${OTHER_HOSTILE.at(-1)})`);
  out();
  const row = (label, a, b) => out(`${label.padEnd(44)}${String(a).padStart(14)}${String(b).padStart(14)}`);
  row('', 'start', 'end');
  row('switchboard RSS', MiB(r.start.sb.rss), r.end ? MiB(r.end.sb.rss) : 'DEAD');
  row('switchboard fds', r.start.sb.fds, r.end ? r.end.sb.fds : 'DEAD');
  // Always show the hostile row: its 0 at the end is the leak check.
  const kinds = new Set([...Object.keys(r.startFds), ...Object.keys(r.endFds || {}), 'from hostile addresses']);
  for (const kind of kinds) {
    row(`  ${kind}`, r.startFds[kind] || 0, r.endFds ? r.endFds[kind] || 0 : '-');
  }
  row('Prosody RSS', MiB(r.start.prosody.rss), r.end ? MiB(r.end.prosody.rss) : '-');
  row('Prosody fds', r.start.prosody.fds, r.end ? r.end.prosody.fds : '-');
  if (r.samples.length) {
    const peakRss = Math.max(...r.samples.map((s) => s.sb.rss));
    const peakFds = Math.max(...r.samples.map((s) => s.sb.fds));
    out(`switchboard during the run (every 10 s): peak RSS ${MiB(peakRss)}, peak fds ${peakFds}; CPU used ` +
      `${((r.end || r.samples.at(-1)).sb.cpu - r.start.sb.cpu).toFixed(1)} s (Prosody ${((r.end || r.samples.at(-1)).prosody.cpu - r.start.prosody.cpu).toFixed(1)} s)`);
    const perMinute = r.samples.filter((_, i) => (i + 1) % 6 === 0);
    if (perMinute.length) {
      out(`  RSS each minute: ${perMinute.map((s) => (s.sb.rss / 1048576).toFixed(1)).join(' ')} MiB`);
      out(`  fds each minute: ${perMinute.map((s) => s.sb.fds).join(' ')}`);
    }
  }
  out();
  const t = r.tally;
  out(`hostile actions: ${t.totalActions} in ${r.hostileSeconds.toFixed(0)} s (${(t.totalActions / r.hostileSeconds).toFixed(0)}/s), ` +
    `hostile sockets open at once: peak ${sockets.peak} (${sockets.opened} opened in all)`);
  out(`this script during the hostile phase: ${r.scriptCpu.toFixed(0)} s CPU, event loop lag p50 ${r.loopDelay.p50.toFixed(0)} ms, ` +
    `p99 ${r.loopDelay.p99.toFixed(0)} ms, max ${r.loopDelay.max.toFixed(0)} ms (in every time measured here)`);
  if (r.floods) out(`session floods: ${r.floods.floods} (${r.floods.created} sessions created, ${r.floods.refused} refused by the per-address cap)`);
  const sorted = [...t.actions].sort(([a], [b]) => a.localeCompare(b));
  for (const [action, e] of sorted) {
    const timing = e.maxMs ? `, answered in ${(e.minMs / 1000).toFixed(1)}-${(e.maxMs / 1000).toFixed(1)} s` : '';
    out(`  ${action}: ${e.total}${timing}`);
    const answers = [...e.answers].sort((a, b) => b[1] - a[1]);
    out(`      ${answers.map(([name, n]) => `${name} x${n}`).join(', ')}`);
    for (const [name, u] of e.unexpected) out(`      UNEXPECTED: ${name} x${u.n}${u.example ? ` (e.g. after ${JSON.stringify(u.example.slice(0, 100))})` : ''}`);
  }
  out(`unexpected answers (not what docs/conformance.md / configuration.md promise): ${t.totalUnexpected}`);
  out();
  const g = r.afterTerminate || r.summary;
  out(`good sessions: ${g.loggedIn}/${g.sessions} logged in; sessions that saw any error: ${g.withErrors.length}`);
  for (const s of g.withErrors.slice(0, 5)) out(`  session ${s.index} (${s.localAddress}): ${s.errorCount} errors, first: ${s.errors[0]}`);
  out(`  messages sent ${g.sent}, received ${g.received}, lost ${g.lost}, duplicated ${g.duplicates}, unexpected ${g.strangers}`);
  out(`  latency send -> arrival: p50 ${g.p50} ms, p99 ${g.p99} ms, max ${g.max} ms`);
  out(`  requests ${g.requests}; resent with the same rid after a transport failure: ${g.retried} (after a timeout: ${g.retriedTimeouts})` +
    (g.retryExample ? `, e.g. ${g.retryExample.message}` : ''));
  out();
  out(`switchboard alive at the end: ${r.alive ? 'yes' : `NO (exit status ${r.exitStatus})`}`);
  const logLines = r.switchboardLog.split('\n').filter((l) => l && !l.startsWith('[harness]'));
  out(`switchboard stderr (log level warn): ${logLines.length} lines${logLines.length ? ', first ones:' : ''}`);
  for (const l of logLines.slice(0, 5)) out(`  ${l.slice(0, 200)}`);
  const prosodyErrors = r.prosodyErrors.split('\n').filter((l) => l && !l.startsWith('(no log'));
  if (prosodyErrors.length) out(`Prosody error log: ${prosodyErrors.slice(0, 3).join(' | ')}`);
  // After the settle every hostile connection and session is over: one still held is a leak.
  const hostileHeld = r.endFds ? r.endFds['from hostile addresses'] || 0 : 0;
  const pass = r.alive && g.withErrors.length === 0 && g.lost === 0 && g.duplicates === 0 && hostileHeld === 0;
  out(`RESULT: ${pass ? 'PASS' : 'FAIL'} (good sessions with errors ${g.withErrors.length}, lost ${g.lost}, duplicated ${g.duplicates}, ` +
    `switchboard ${r.alive ? 'alive' : 'dead'}, connections from hostile addresses held at the end ${hostileHeld})`);
  return { text: lines.join('\n'), pass };
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(err.message);
    process.exit(64);
  }
  const hardLimitMs = (opts.minutes + 3) * 60000;
  const deadline = setTimeout(async () => {
    log(`overall timeout (${opts.minutes} + 3 min): stopping everything`);
    await stopAll();
    process.exit(2);
  }, hardLimitMs);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, async () => {
      log(`${signal}: stopping everything`);
      await stopAll();
      process.exit(130);
    });
  }
  let code = 1;
  try {
    const result = await soak(opts);
    const { text, pass } = report(result);
    console.log(text);
    code = pass ? 0 : 1;
  } catch (err) {
    console.error(`hostile_soak failed: ${err.stack || err.message}`);
  } finally {
    await stopAll();
    clearTimeout(deadline);
  }
  process.exit(code);
}

main();
