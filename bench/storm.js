#!/usr/bin/env node
'use strict';
// The login-storm benchmark (docs/benchmarks.md, "A login storm"): what sessions
// already established go through while a storm of new logins hits the box.
//
//   node bench/storm.js [--established 50000] [--storm 100000] [--storm-rate 2000]
//                       [--msg-rate 1000] [--storm-seconds 120] [--after 30] [--out DIR]
//
// 1. A stub XMPP server and switchboard (`--workers auto`, metrics on) for both
//    populations, as the scale runs start them (bench/lib/scale_stack.js).
// 2. Generator A logs in the established sessions at 500/s and keeps them
//    chatting at --msg-rate for the whole run, with a per-second timeline.
// 3. Once A is in and settled, generator B asks for --storm new logins at
//    --storm-rate (by default 4 times what the box serves), playing Strophe.js on
//    refusals (switchboard-soak --retry-as strophe), for --storm-seconds.
// 4. A goes on --after seconds more while B's sessions stay logged in (idle), then
//    A ends, then B: the storm's own logouts do not fall in A's measurement.
//
// It prints, for the established sessions, message latency p50/p99/max and lost
// messages before, during and after the storm (from A's per-second timeline: the
// phase's p99 is the worst second's p99); for the storm, how many got in, were
// refused and retried, gave up or failed, and the rate at which they got in; the
// CPU seconds of each worker during the storm; and whether any worker restarted.
// The generators' own overload is printed too: a latency figure counts only if
// the generator kept up. Everything runs on this box; the stub is a stand-in for
// an XMPP server, named as such.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { freePort } = require('../tests/lib/ports');
const { sleep } = require('../tests/lib/proc');
const { start, stop, SWITCHBOARD, STUB, SOAK, SOAK_SESSIONS_PER_PROCESS, stubProcs, upstreamSources } = require('./lib/scale_stack');
const { waitForPort } = require('../tests/lib/proc');

function parseArgs(argv) {
  const o = { established: 50000, storm: 100000, stormRate: 2000, msgRate: 1000, stormSeconds: 120, after: 30,
    out: path.join(os.tmpdir(), `storm-${Date.now()}`) };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in o)) throw new Error(`unknown option ${argv[i]}`);
    o[key] = key === 'out' ? argv[i + 1] : Number(argv[i + 1]);
  }
  return o;
}

async function scrape(port) {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const samples = {};
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$/.exec(line);
    if (m) samples[m[1]] = Number(m[2]);
  }
  return samples;
}

/** CPU seconds (user + system) of every process whose parent is `pid`, by pid. */
function childCpu(pid) {
  const out = {};
  const tick = 100;  // USER_HZ
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== pid) continue;
      out[entry] = (Number(fields[11]) + Number(fields[12])) / tick;
    } catch { /* gone */ }
  }
  return out;
}

/** p50 (median of the seconds' p50), p99 and max (worst second) and lost, for t in [from, to). */
function phase(timeline, from, to) {
  const seconds = timeline.filter((s) => s.t > from && s.t <= to && s.messages_received > 0);
  if (seconds.length === 0) return { seconds: 0 };
  const p50s = seconds.map((s) => s.latency_ms.p50).sort((a, b) => a - b);
  const sent = seconds.reduce((n, s) => n + s.messages_sent, 0);
  const received = seconds.reduce((n, s) => n + s.messages_received, 0);
  return {
    seconds: seconds.length,
    p50: p50s[Math.floor(p50s.length / 2)],
    p99: Math.max(...seconds.map((s) => s.latency_ms.p99)),
    max: Math.max(...seconds.map((s) => s.latency_ms.max)),
    sent, received,
    lag_max: Math.max(...seconds.map((s) => s.loop_lag_ms || 0)),
  };
}

async function main() {
  const o = parseArgs(process.argv);
  fs.mkdirSync(o.out, { recursive: true });
  const total = o.established + o.storm;
  const stubPort = await freePort();
  const sbPort = await freePort();
  const metricsPort = await freePort();
  const stub = await start(STUB, ['--listen', `127.0.0.1:${stubPort}`, '--procs', String(stubProcs(total)), '--log-level', 'warn'],
    { ready: /listening on/, logFile: path.join(o.out, 'stub.log') });
  const sb = await start(SWITCHBOARD, ['--listen', `127.0.0.1:${sbPort}`, '--upstream', `127.0.0.1:${stubPort}`,
    '--workers', 'auto', '--set', `max_sessions=${Math.ceil(total * 1.1)}`, '--set', `metrics_listen=127.0.0.1:${metricsPort}`,
    '--log-level', 'warn', ...upstreamSources(total)], { ready: null, logFile: path.join(o.out, 'switchboard.log') });
  const children = [];
  const stopAll = async () => {
    for (const c of children) await stop(c);
    await stop(sb);
    await stop(stub);
  };
  process.on('SIGINT', () => { stopAll().then(() => process.exit(130)); });
  try {
    await waitForPort(sbPort);
    await sleep(1000);
    const url = `http://127.0.0.1:${sbPort}/http-bind`;
    const procs = (n) => String(Math.max(1, Math.ceil(n / SOAK_SESSIONS_PER_PROCESS)));
    const ramp = Math.ceil(o.established / 500) + 10;
    const stormStart = ramp;                      // seconds after A's start
    const stormEnd = stormStart + o.stormSeconds;
    const aDuration = stormEnd + o.after;
    const before = await scrape(metricsPort);

    console.log(`storm: ${o.established} established (ramp ${ramp} s), then ${o.storm} logins asked at ${o.stormRate}/s ` +
      `for ${o.stormSeconds} s, ${o.after} s after; logs in ${o.out}`);
    const aJson = path.join(o.out, 'established.json');
    const a = await start(SOAK, ['--url', url, '--sessions', String(o.established), '--rate', '500', '--msg-rate', String(o.msgRate),
      '--duration', String(aDuration), '--procs', procs(o.established), '--json', aJson, '--quiet', '--max-errors', '1000000000'],
    { ready: null, logFile: path.join(o.out, 'established.log') });
    children.push(a);
    const aStarted = Date.now();
    await sleep(stormStart * 1000);

    const cpuBefore = childCpu(sb.pid);
    const bJson = path.join(o.out, 'storm.json');
    const b = await start(SOAK, ['--url', url, '--sessions', String(o.storm), '--rate', String(o.stormRate), '--msg-rate', '0',
      '--first-user', String(o.established + 1), '--duration', String(o.stormSeconds + o.after + 15), '--procs', procs(o.storm),
      '--json', bJson, '--quiet', '--max-errors', '1000000000'], { ready: null, logFile: path.join(o.out, 'storm.log') });
    children.push(b);
    await sleep(o.stormSeconds * 1000);
    const cpuAfter = childCpu(sb.pid);
    const stormWall = (Date.now() - aStarted) / 1000 - stormStart;
    await a.exited;
    const after = await scrape(metricsPort);
    await b.exited;

    const A = JSON.parse(fs.readFileSync(aJson, 'utf8'));
    const B = JSON.parse(fs.readFileSync(bJson, 'utf8'));
    const phases = {
      before: phase(A.timeline, ramp - 10 + 5, stormStart),
      during: phase(A.timeline, stormStart, stormStart + stormWall),
      after: phase(A.timeline, stormStart + stormWall, aDuration),
    };
    const restarts = ['exited', 'hung'].map((r) => (after[`switchboard_worker_restarts_total{reason="${r}"}`] || 0)
      - (before[`switchboard_worker_restarts_total{reason="${r}"}`] || 0));
    const cpu = Object.keys(cpuAfter).map((pid) => (cpuAfter[pid] - (cpuBefore[pid] || 0)).toFixed(1));
    const bTimeline = B.timeline || [];
    const lastLogin = bTimeline.reduce((t, s) => (s.logins > 0 ? s.t : t), 0);
    const report = {
      options: o,
      established: { sessions: A.sessions_established, target: o.established, lost: A.messages_lost,
        duplicated: A.messages_duplicated, errors: A.errors, errors_by_kind: A.errors_by_kind, phases,
        generator: A.generator },
      storm: { logged_in: B.sessions_established, asked: o.storm, refused_logins: B.refused_logins,
        errors: B.errors, errors_by_kind: B.errors_by_kind,
        login_rate_per_s: lastLogin > 0 ? B.sessions_established / lastLogin : 0, last_login_s: lastLogin,
        login_latency_ms: B.login_latency_ms, generator: B.generator },
      worker_cpu_s_during_storm: cpu,
      worker_restarts: { exited: restarts[0], hung: restarts[1] },
      overload_refusals: (after['switchboard_refused_requests_total{reason="overload"}'] || 0)
        - (before['switchboard_refused_requests_total{reason="overload"}'] || 0),
      handovers_refused: after.switchboard_handovers_refused_total || 0,
      handovers_lost: after.switchboard_handovers_lost_total || 0,
    };
    fs.writeFileSync(path.join(o.out, 'storm-report.json'), JSON.stringify(report, null, 2));
    const f = (p) => (p.seconds ? `p50 ${p.p50.toFixed(1)} / p99 ${p.p99.toFixed(1)} / max ${p.max.toFixed(1)} ms, ` +
      `${p.received}/${p.sent} msgs, generator lag max ${p.lag_max.toFixed(0)} ms (${p.seconds} s)` : 'no data');
    console.log(`established: ${A.sessions_established}/${o.established} in, ${A.messages_lost} lost, ` +
      `${A.messages_duplicated} duplicated, ${A.errors} errors ${JSON.stringify(A.errors_by_kind)}`);
    for (const name of ['before', 'during', 'after']) console.log(`  ${name.padEnd(6)} ${f(phases[name])}`);
    const r = B.refused_logins || {};
    console.log(`storm: ${B.sessions_established}/${o.storm} logged in by ${lastLogin} s ` +
      `(${report.storm.login_rate_per_s.toFixed(0)}/s); refused-and-retried ${JSON.stringify(r)}; ` +
      `errors ${B.errors} ${JSON.stringify(B.errors_by_kind)}`);
    console.log(`switchboard: ${report.overload_refusals} logins refused for overload; hand-overs refused ` +
      `${report.handovers_refused}, lost ${report.handovers_lost}; worker restarts exited ${restarts[0]}, hung ${restarts[1]}`);
    console.log(`worker CPU s during the storm: ${cpu.join(' ')}`);
    for (const [name, g] of [['established', A.generator], ['storm', B.generator]]) {
      if (g && g.overloaded) console.log(`generator ${name} overloaded: ${JSON.stringify(g)}`);
    }
  } finally {
    await stopAll();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
