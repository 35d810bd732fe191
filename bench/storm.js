#!/usr/bin/env node
'use strict';
// The login-storm benchmark (docs/benchmarks.md, "A login storm"): what sessions
// already established go through while a storm of new logins hits the box.
//
//   node bench/storm.js [--established 50000] [--storm 100000] [--storm-rate 2000]
//                       [--msg-rate 1000] [--storm-seconds 120] [--after 30] [--out DIR]
//   node bench/storm.js --server ejabberd [--established 2000] [--storm 6000] [--storm-rate 2000]
//                       [--msg-rate 100] [--storm-seconds 30] [--after 30] [--established-rate 200]
//                       [--generator-nice -10] [--out DIR] [--timeout 900]
//
// 1. A stub XMPP server and switchboard (`--workers auto`, metrics on) for both
//    populations, as the scale runs start them (bench/lib/scale_stack.js).
// 2. Generator A logs in the established sessions at 500/s (--established-rate)
//    and keeps them chatting at --msg-rate for the whole run, with a per-second
//    timeline.
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
//
// --server ejabberd is the anchor: the same storm, in one invocation, against
// (1) a real ejabberd's own BOSH (mod_bosh) directly and (2) switchboard
// (`--workers auto`, metrics on) in front of a fresh ejabberd of the same
// configuration (its c2s port), each a fresh private server on free loopback
// ports with --established + --storm registered accounts (bench/lib/soak_run.js's
// startServer, as side_by_side.js uses it), logged in with SASL PLAIN u%d / p%d,
// and stopped by PID. Its numbers are proportionate to ejabberd's login rate
// (about 400-630 c2s logins/s on a 2-core box): 2,000 established chatting at
// 100 msg/s, 6,000 logins asked at 2,000/s; the storm's generator runs at least
// 105 s, so that every login refused at the storm's start has had Strophe's last
// try (99 s) and is either in or given up. Besides the figures above, the CPU
// of the server's and switchboard's process trees in each phase. The generators
// run at nice --generator-nice (-10 here, 0 for the stub run; root may lower it),
// in a session and scheduling autogroup of their own: they use a few % of a core,
// and without it a saturated box delays their loops, which the soak counts as its
// own overload. The load of the whole box in each phase is printed too (all CPU
// busy, what of it was not the servers, CPU pressure): on a shared machine it
// says how much the other work took. It prints a
// table of both targets with the ratios switchboard-over-ejabberd / ejabberd
// direct, and writes storm-anchor.json and table.md to --out (each target's
// soak reports and logs in a folder of its own).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { freePort } = require('../tests/lib/ports');
const { sleep } = require('../tests/lib/proc');
const { start, stop, SWITCHBOARD, STUB, SOAK, SOAK_SESSIONS_PER_PROCESS, stubProcs, upstreamSources } = require('./lib/scale_stack');
const { waitForPort } = require('../tests/lib/proc');

const ANCHOR_DEFAULTS = { established: 2000, storm: 6000, stormRate: 2000, msgRate: 100, stormSeconds: 30, after: 30,
  establishedRate: 200, timeout: 900, generatorNice: -10 };
// One soak process starts about 500 logins/s with its loop lag in bounds
// (docs/soak.md, "How much one generator process carries").
const LOGINS_PER_SOAK_PROCESS = 500;

function parseArgs(argv) {
  const o = { server: 'stub', established: 50000, storm: 100000, stormRate: 2000, msgRate: 1000, stormSeconds: 120, after: 30,
    establishedRate: 500, timeout: 0, generatorNice: 0, out: path.join(os.tmpdir(), `storm-${Date.now()}`) };
  const given = {};
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in o)) throw new Error(`unknown option ${argv[i]}`);
    if (argv[i + 1] === undefined) throw new Error(`${argv[i]} needs a value`);
    given[key] = key === 'out' || key === 'server' ? argv[i + 1] : Number(argv[i + 1]);
    if (typeof given[key] === 'number' && !(given[key] >= (key === 'generatorNice' ? -20 : 0))) throw new Error(`${argv[i]} needs a number`);
  }
  if (given.server && !['stub', 'ejabberd'].includes(given.server)) throw new Error('--server is stub or ejabberd');
  if (given.server === 'ejabberd') Object.assign(o, ANCHOR_DEFAULTS);
  return Object.assign(o, given);
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

/** { pid: { ppid, cpu } } of every process now: cpu is user + system seconds. */
function processTable() {
  const out = {};
  const tick = 100;  // USER_HZ
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[entry] = { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / tick };
    } catch { /* gone */ }
  }
  return out;
}

/** CPU seconds (user + system) of every process whose parent is `pid`, by pid. */
function childCpu(pid) {
  const out = {};
  for (const [p, { ppid, cpu }] of Object.entries(processTable())) if (ppid === pid) out[p] = cpu;
  return out;
}

/** CPU seconds of `pid` and all its descendants now (the Erlang VM is a grandchild of ejabberd's wrapper). */
function treeCpu(pid) {
  const table = processTable();
  const inTree = new Set([String(pid)]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [p, { ppid }] of Object.entries(table)) {
      if (!inTree.has(p) && inTree.has(String(ppid))) { inTree.add(p); grew = true; }
    }
  }
  return [...inTree].reduce((sum, p) => sum + (table[p] ? table[p].cpu : 0), 0);
}

/**
 * The whole box now: CPU seconds busy (all processes, from /proc/stat) and the
 * microseconds in which some task waited for a CPU (/proc/pressure/cpu, "some"),
 * to tell how much of a phase the other work on a shared machine took.
 */
function boxNow() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const busy = (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / 100;  // user nice system irq softirq steal, USER_HZ
  let pressure = NaN;
  try {
    pressure = Number(/^some .*total=(\d+)/m.exec(fs.readFileSync('/proc/pressure/cpu', 'utf8'))[1]);
  } catch { /* no PSI */ }
  return { busy, pressure };
}

/**
 * p50 (median of the seconds' p50), p99 and max (worst second), messages sent and
 * received and errors, for t in (from, to]. `unreceived` = sent − received in the
 * phase: exact when nothing is in flight across its edges (messages take
 * milliseconds), an approximation otherwise; the run's `lost` is exact.
 */
function phase(timeline, from, to) {
  const all = timeline.filter((s) => s.t > from && s.t <= to);
  const seconds = all.filter((s) => s.messages_received > 0);
  const errors = all.reduce((n, s) => n + (s.errors || 0), 0);
  if (seconds.length === 0) return { seconds: 0, errors };
  const p50s = seconds.map((s) => s.latency_ms.p50).sort((a, b) => a - b);
  const sent = all.reduce((n, s) => n + s.messages_sent, 0);
  const received = all.reduce((n, s) => n + s.messages_received, 0);
  return {
    seconds: seconds.length,
    p50: p50s[Math.floor(p50s.length / 2)],
    p99: Math.max(...seconds.map((s) => s.latency_ms.p99)),
    max: Math.max(...seconds.map((s) => s.latency_ms.max)),
    sent, received, unreceived: sent - received, errors,
    lag_max: Math.max(...seconds.map((s) => s.loop_lag_ms || 0)),
    lagging_seconds: all.filter((s) => (s.loop_lag_ms || 0) > 50).length,  // the soak's default --max-lag
    seconds_p99_over_100ms: seconds.filter((s) => s.latency_ms.p99 > 100).length,
    seconds_p99_over_1s: seconds.filter((s) => s.latency_ms.p99 > 1000).length,
  };
}

/**
 * One storm against `target`: { url, dir, account (soak arguments naming the
 * accounts, [] for the stub), sbPid and metricsPort (switchboard, or null),
 * trees ({ name: pid } whose CPU is taken per phase), aProcs, bProcs }.
 * `children` collects the soaks started, for the caller's clean-up.
 */
async function runStorm(o, target, children) {
  const { url, dir } = target;
  const ramp = Math.ceil(o.established / o.establishedRate) + 10;
  const stormStart = ramp;                      // seconds after A's start
  const stormEnd = stormStart + o.stormSeconds;
  const aDuration = stormEnd + o.after;
  const before = target.metricsPort ? await scrape(target.metricsPort) : {};
  // With --generator-nice N: `setsid nice -n N soak ...` (both exec, so the pid
  // is the soak's). With the kernel's autogroups a nice value counts only within
  // the session, so the soak gets a session (an autogroup) of its own and that
  // group gets nice N too; without the privilege for a negative N both stay at 0.
  const soak = async (args, log) => {
    if (!o.generatorNice) return start(SOAK, args, { ready: null, logFile: log });
    const child = await start('setsid', ['nice', '-n', String(o.generatorNice), SOAK, ...args], { ready: null, logFile: log });
    try { fs.writeFileSync(`/proc/${child.pid}/autogroup`, String(o.generatorNice)); } catch { /* no autogroups, or no privilege */ }
    return child;
  };
  const treeCpus = () => ({ ...Object.fromEntries(Object.entries(target.trees).map(([name, pid]) => [name, treeCpu(pid)])),
    box: boxNow() });
  // Switchboard's pacer, once a second: the login rate it admits, logins opening and queued.
  const pacer = [];
  let sampling = null;

  const aJson = path.join(dir, 'established.json');
  const a = await soak(['--url', url, ...target.account, '--sessions', String(o.established),
    '--rate', String(o.establishedRate), '--msg-rate', String(o.msgRate), '--duration', String(aDuration),
    '--procs', String(target.aProcs), '--retry-as', 'strophe', '--json', aJson, '--quiet', '--max-errors', '1000000000'],
  path.join(dir, 'established.log'));
  children.push(a);
  const aStarted = Date.now();
  const cpuMarks = {};
  if (target.metricsPort) {
    sampling = setInterval(() => {
      const t = (Date.now() - aStarted) / 1000;
      scrape(target.metricsPort).then((m) => pacer.push({ t, login_rate: m.switchboard_login_rate,
        in_progress: m.switchboard_logins_in_progress, queued: m.switchboard_logins_queued,
        refused_overload: m['switchboard_refused_requests_total{reason="overload"}'] || 0,
        opening_failures: m.switchboard_login_opening_failures_total || 0 }), () => {});
    }, 1000);
  }
  await sleep((stormStart - 5) * 1000);
  cpuMarks.before = { at: (Date.now() - aStarted) / 1000, cpu: treeCpus() };
  await sleep(Math.max(0, aStarted + stormStart * 1000 - Date.now()));

  const cpuBefore = target.sbPid ? childCpu(target.sbPid) : {};
  cpuMarks.during = { at: (Date.now() - aStarted) / 1000, cpu: treeCpus() };
  const bJson = path.join(dir, 'storm.json');
  const b = await soak(['--url', url, ...target.account, '--sessions', String(o.storm), '--rate', String(o.stormRate),
    '--msg-rate', '0', '--first-user', String(o.established + 1), '--duration', String(Math.max(o.stormSeconds + o.after + 15, target.stormMinSeconds || 0)),
    '--procs', String(target.bProcs), '--retry-as', 'strophe', '--json', bJson, '--quiet', '--max-errors', '1000000000'],
  path.join(dir, 'storm.log'));
  children.push(b);
  await sleep(o.stormSeconds * 1000);
  const cpuAfter = target.sbPid ? childCpu(target.sbPid) : {};
  cpuMarks.after = { at: (Date.now() - aStarted) / 1000, cpu: treeCpus() };
  const stormWall = cpuMarks.after.at - stormStart;
  await sleep(Math.max(0, aStarted + aDuration * 1000 - Date.now()));
  cpuMarks.end = { at: (Date.now() - aStarted) / 1000, cpu: treeCpus() };
  await a.exited;
  if (sampling) clearInterval(sampling);
  const after = target.metricsPort ? await scrape(target.metricsPort) : {};
  await b.exited;

  const A = JSON.parse(fs.readFileSync(aJson, 'utf8'));
  const B = JSON.parse(fs.readFileSync(bJson, 'utf8'));
  const phases = {
    before: phase(A.timeline, ramp - 10 + 5, stormStart),
    during: phase(A.timeline, stormStart, stormStart + stormWall),
    after: phase(A.timeline, stormStart + stormWall, aDuration),
  };
  // Cores used by each process tree in each phase (CPU seconds over wall seconds).
  const marks = [['before', 'during'], ['during', 'after'], ['after', 'end']];
  const cpuPhases = Object.fromEntries(marks.map(([from, to]) => {
    const wall = cpuMarks[to].at - cpuMarks[from].at;
    const trees = Object.fromEntries(Object.keys(target.trees).map((name) => {
      const seconds = cpuMarks[to].cpu[name] - cpuMarks[from].cpu[name];
      return [name, { cpu_s: seconds, cores: seconds / wall }];
    }));
    const box = { cores: (cpuMarks[to].cpu.box.busy - cpuMarks[from].cpu.box.busy) / wall,
      cpu_pressure: (cpuMarks[to].cpu.box.pressure - cpuMarks[from].cpu.box.pressure) / 1e6 / wall };
    box.others_cores = box.cores - Object.values(trees).reduce((n, x) => n + x.cores, 0);
    return [from, { ...trees, box }];
  }));
  const inStorm = pacer.filter((x) => x.t > stormStart && x.t <= stormStart + stormWall);
  const rates = inStorm.map((x) => x.login_rate).filter(Number.isFinite).sort((x, y) => x - y);
  const pacerSummary = rates.length ? { login_rate_median: rates[Math.floor(rates.length / 2)], login_rate_min: rates[0],
    login_rate_max: rates[rates.length - 1], queued_max: Math.max(...inStorm.map((x) => x.queued || 0)),
    in_progress_max: Math.max(...inStorm.map((x) => x.in_progress || 0)),
    opening_failures: (after.switchboard_login_opening_failures_total || 0) - (before.switchboard_login_opening_failures_total || 0) } : null;
  const delta = (key) => (after[key] || 0) - (before[key] || 0);
  const restarts = ['exited', 'hung'].map((r) => delta(`switchboard_worker_restarts_total{reason="${r}"}`));
  const cpu = Object.keys(cpuAfter).map((pid) => (cpuAfter[pid] - (cpuBefore[pid] || 0)).toFixed(1));
  const bTimeline = B.timeline || [];
  const lastLogin = bTimeline.reduce((t, s) => (s.logins > 0 ? s.t : t), 0);
  const inDuringStorm = bTimeline.filter((s) => s.t <= o.stormSeconds).reduce((n, s) => n + s.logins, 0);
  // When 95 % of the asked logins were in (seconds after the storm's start), and the rate until then.
  let cumulative = 0;
  const t95 = (bTimeline.find((s) => (cumulative += s.logins) >= 0.95 * o.storm) || {}).t || null;
  return {
    options: o,
    target: { name: target.name, url },
    established: { sessions: A.sessions_established, target: o.established, lost: A.messages_lost,
      duplicated: A.messages_duplicated, sent: A.messages_sent, errors: A.errors, errors_by_kind: A.errors_by_kind, phases,
      latency_ms: A.latency_ms, generator: A.generator, client: (A.options || {}).client },
    storm: { logged_in: B.sessions_established, asked: o.storm, refused_logins: B.refused_logins,
      errors: B.errors, errors_by_kind: B.errors_by_kind,
      login_rate_per_s: lastLogin > 0 ? B.sessions_established / lastLogin : 0, last_login_s: lastLogin,
      logged_in_during_storm: inDuringStorm, in_95_percent_s: t95, login_rate_to_95_percent: t95 ? (0.95 * o.storm) / t95 : 0,
      peak_logins_per_s: Math.max(0, ...bTimeline.map((s) => s.logins)), login_latency_ms: B.login_latency_ms, generator: B.generator },
    cpu_by_phase: cpuPhases,
    pacer: pacerSummary,
    pacer_timeline: pacer,
    worker_cpu_s_during_storm: cpu,
    worker_restarts: { exited: restarts[0], hung: restarts[1] },
    overload_refusals: delta('switchboard_refused_requests_total{reason="overload"}'),
    handovers_refused: after.switchboard_handovers_refused_total || 0,
    handovers_lost: after.switchboard_handovers_lost_total || 0,
  };
}

/** The stub run's lines, as storm.js has always printed them. */
function printStubReport(report) {
  const { established: A, storm: B, options: o } = report;
  const f = (p) => (p.seconds ? `p50 ${p.p50.toFixed(1)} / p99 ${p.p99.toFixed(1)} / max ${p.max.toFixed(1)} ms, ` +
    `${p.received}/${p.sent} msgs, generator lag max ${p.lag_max.toFixed(0)} ms (${p.seconds} s)` : 'no data');
  console.log(`established: ${A.sessions}/${o.established} in, ${A.lost} lost, ` +
    `${A.duplicated} duplicated, ${A.errors} errors ${JSON.stringify(A.errors_by_kind)}`);
  for (const name of ['before', 'during', 'after']) console.log(`  ${name.padEnd(6)} ${f(A.phases[name])}`);
  const r = B.refused_logins || {};
  console.log(`storm: ${B.logged_in}/${o.storm} logged in by ${B.last_login_s} s ` +
    `(${B.login_rate_per_s.toFixed(0)}/s); refused-and-retried ${JSON.stringify(r)}; ` +
    `errors ${B.errors} ${JSON.stringify(B.errors_by_kind)}`);
  console.log(`switchboard: ${report.overload_refusals} logins refused for overload; hand-overs refused ` +
    `${report.handovers_refused}, lost ${report.handovers_lost}; worker restarts exited ${report.worker_restarts.exited}, ` +
    `hung ${report.worker_restarts.hung}`);
  console.log(`worker CPU s during the storm: ${report.worker_cpu_s_during_storm.join(' ')}`);
  for (const [name, g] of [['established', A.generator], ['storm', B.generator]]) {
    if (g && g.overloaded) console.log(`generator ${name} overloaded: ${JSON.stringify(g)}`);
  }
}

async function stubMain(o, children, stoppers) {
  const total = o.established + o.storm;
  const stubPort = await freePort();
  const sbPort = await freePort();
  const metricsPort = await freePort();
  const stub = await start(STUB, ['--listen', `127.0.0.1:${stubPort}`, '--procs', String(stubProcs(total)), '--log-level', 'warn'],
    { ready: /listening on/, logFile: path.join(o.out, 'stub.log') });
  stoppers.push(() => stop(stub));
  const sb = await start(SWITCHBOARD, ['--listen', `127.0.0.1:${sbPort}`, '--upstream', `127.0.0.1:${stubPort}`,
    '--workers', 'auto', '--set', `max_sessions=${Math.ceil(total * 1.1)}`, '--set', `metrics_listen=127.0.0.1:${metricsPort}`,
    '--log-level', 'warn', ...upstreamSources(total)], { ready: null, logFile: path.join(o.out, 'switchboard.log') });
  stoppers.unshift(() => stop(sb));
  await waitForPort(sbPort);
  await sleep(1000);
  const procs = (n) => Math.max(1, Math.ceil(n / SOAK_SESSIONS_PER_PROCESS));
  console.log(`storm: ${o.established} established (ramp ${Math.ceil(o.established / o.establishedRate) + 10} s), ` +
    `then ${o.storm} logins asked at ${o.stormRate}/s for ${o.stormSeconds} s, ${o.after} s after; logs in ${o.out}`);
  const report = await runStorm(o, { name: 'switchboard -> stub', url: `http://127.0.0.1:${sbPort}/http-bind`, dir: o.out,
    account: [], sbPid: sb.pid, metricsPort, trees: { switchboard: sb.pid, stub: stub.pid },
    aProcs: procs(o.established), bProcs: procs(o.storm) }, children);
  fs.writeFileSync(path.join(o.out, 'storm-report.json'), JSON.stringify(report, null, 2));
  printStubReport(report);
}

// --- the anchor: ejabberd direct and switchboard in front of ejabberd -----------

async function anchorTarget(o, front, children, log) {
  // Required here, not at the top: the stub run needs no XMPP server harness.
  const { startServer, stopOne } = require('./lib/soak_run');
  const name = front ? 'switchboard -> ejabberd' : 'ejabberd direct (mod_bosh)';
  const dir = path.join(o.out, front ? 'switchboard-ejabberd' : 'ejabberd-direct');
  fs.mkdirSync(dir, { recursive: true });
  const accounts = o.established + o.storm;
  log(`${name}: starting ejabberd with ${accounts} accounts`);
  const registered = Date.now();
  const server = await startServer('ejabberd', accounts, { options: { bosh: true, inactivity: 60 } });
  const registerSeconds = (Date.now() - registered) / 1000;
  let sb = null;
  const mine = [];
  try {
    const account = ['--domain', 'localhost', '--user-pattern', 'u%d', '--password', 'p%d'];
    let url = server.boshUrl;
    let metricsPort = null;
    if (front) {
      const sbPort = await freePort();
      metricsPort = await freePort();
      sb = await start(SWITCHBOARD, ['--listen', `127.0.0.1:${sbPort}`, '--upstream', `127.0.0.1:${server.c2sPort}`,
        '--workers', 'auto', '--set', `max_sessions=${Math.ceil(accounts * 1.1)}`, '--set', `metrics_listen=127.0.0.1:${metricsPort}`,
        '--log-level', 'warn'], { ready: null, logFile: path.join(dir, 'switchboard.log') });
      await waitForPort(sbPort);
      await sleep(1000);
      url = `http://127.0.0.1:${sbPort}/http-bind`;
    }
    const procs = (n, rate) => Math.max(1, Math.ceil(n / SOAK_SESSIONS_PER_PROCESS), Math.ceil(rate / LOGINS_PER_SOAK_PROCESS));
    const trees = { ejabberd: server.child.pid, ...(sb ? { switchboard: sb.pid } : {}) };
    log(`${name}: ${o.established} established at ${o.establishedRate}/s, then ${o.storm} logins at ${o.stormRate}/s; ${url}`);
    const report = await runStorm(o, { name, url, dir, account, sbPid: sb ? sb.pid : null, metricsPort, trees,
      aProcs: procs(o.established, o.establishedRate), bProcs: procs(o.storm, o.stormRate),
      // Long enough for Strophe's last try (99 s after a first refusal at the storm's start): every
      // refused login then either gets in or gives up, none is left waiting when the run ends.
      stormMinSeconds: 105 }, mine);
    report.accounts = { registered: accounts, seconds: registerSeconds };
    report.load_average_after = os.loadavg();
    fs.writeFileSync(path.join(dir, 'storm-report.json'), JSON.stringify(report, null, 2));
    log(`${name}: done`);
    return report;
  } finally {
    for (const c of mine) await stop(c);
    if (sb) {
      await stop(sb);
      if (fs.existsSync(path.join(dir, 'switchboard.log'))) {
        const text = fs.readFileSync(path.join(dir, 'switchboard.log'), 'utf8');
        if (/error|fatal/i.test(text)) log(`${name}: switchboard's log has errors, see ${path.join(dir, 'switchboard.log')}`);
      }
    }
    await stopOne(server);
  }
}

const fx = (x, d = 1) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));
const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const ratio = (a, b) => {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return '-';
  if (b === 0) return a === 0 ? '=' : '-';
  const r = a / b;
  return r >= 0.1 ? r.toFixed(2) : r.toPrecision(2);
};

function anchorTable(direct, sb, o) {
  const lines = [];
  const out = (s = '') => lines.push(s);
  const row = (label, d, s, r = '') => out(`| ${label} | ${d} | ${s} | ${r} |`);
  const num = (label, get, digits = 1) => row(label, fx(get(direct), digits), fx(get(sb), digits), ratio(get(sb), get(direct)));
  out(`Login storm against ejabberd: ${o.established} established chatting at ${o.msgRate} msg/s (logged in at ` +
    `${o.establishedRate}/s), then ${o.storm} logins asked at ${o.stormRate}/s, storm phase ${o.stormSeconds} s, ${o.after} s after;`);
  const client = (direct.established.client || 'classic (a soak without --client)');
  out(`SASL PLAIN u%d / p%d, both generators --retry-as strophe${o.generatorNice ? ` at nice ${o.generatorNice}` : ''}, ` +
    `BOSH client profile ${client}. date ${new Date().toISOString()}, node ${process.version}, ` +
    `${os.cpus().length} cores, load average now ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  out();
  row('', 'ejabberd direct (mod_bosh)', 'switchboard -> ejabberd (c2s)', 'ratio sb / direct');
  row('---', '---:', '---:', '---:');
  row('established in / target', `${direct.established.sessions} / ${o.established}`, `${sb.established.sessions} / ${o.established}`);
  for (const name of ['before', 'during', 'after']) {
    const p = (r) => r.established.phases[name];
    num(`established ${name}: p50 (median second, ms)`, (r) => p(r).p50);
    num(`established ${name}: p99 (worst second, ms)`, (r) => p(r).p99);
    num(`established ${name}: max (ms)`, (r) => p(r).max);
    row(`established ${name}: seconds with p99 > 100 ms / > 1 s`, `${p(direct).seconds_p99_over_100ms} / ${p(direct).seconds_p99_over_1s}`,
      `${p(sb).seconds_p99_over_100ms} / ${p(sb).seconds_p99_over_1s}`);
    row(`established ${name}: sent / received in the phase`, `${int(p(direct).sent)} / ${int(p(direct).received)}`,
      `${int(p(sb).sent)} / ${int(p(sb).received)}`);
    num(`established ${name}: errors`, (r) => p(r).errors, 0);
    const lag = (r) => (p(r).seconds ? `${fx(p(r).lag_max, 0)} ms, ${p(r).lagging_seconds} s > 50 ms` : '-');
    row(`established ${name}: generator lag max, seconds lagging`, lag(direct), lag(sb));
  }
  num('established, whole run: lost', (r) => r.established.lost, 0);
  num('established, whole run: duplicated', (r) => r.established.duplicated, 0);
  const kinds = (e) => Object.entries(e || {}).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  row('established errors by kind', kinds(direct.established.errors_by_kind), kinds(sb.established.errors_by_kind));
  num('storm: logged in', (r) => r.storm.logged_in, 0);
  num(`storm: logged in within the storm phase (${o.stormSeconds} s)`, (r) => r.storm.logged_in_during_storm, 0);
  num('storm: last login at (s after its start)', (r) => r.storm.last_login_s, 0);
  num('storm: rate they got in (/s): logged in / last login', (r) => r.storm.login_rate_per_s, 0);
  num('storm: 95 % of the asked in by (s)', (r) => r.storm.in_95_percent_s, 0);
  num('storm: rate until 95 % were in (/s)', (r) => r.storm.login_rate_to_95_percent, 0);
  num('storm: most logins in one second', (r) => r.storm.peak_logins_per_s, 0);
  const refused = (r) => r.storm.refused_logins || {};
  num('storm: logins refused at least once', (r) => refused(r).logins || 0, 0);
  num('storm: refusals (503s)', (r) => refused(r).refusals || 0, 0);
  num('storm: refused, then in', (r) => refused(r).then_in || 0, 0);
  num('storm: refused, gave up (Strophe\'s 5th refusal)', (r) => refused(r).gave_up || 0, 0);
  num('storm: refused, still waiting to retry at the end', (r) => refused(r).unsettled || 0, 0);
  num('storm: failed (errors)', (r) => r.storm.errors, 0);
  row('storm errors by kind', kinds(direct.storm.errors_by_kind), kinds(sb.storm.errors_by_kind));
  num('storm: login latency p50 (ms)', (r) => r.storm.login_latency_ms.p50, 0);
  num('storm: login latency p99 (ms)', (r) => r.storm.login_latency_ms.p99, 0);
  for (const name of ['before', 'during', 'after']) {
    const cores = (r, tree) => (r.cpu_by_phase[name][tree] ? r.cpu_by_phase[name][tree].cores : 0);
    row(`CPU ${name} (cores): ejabberd / switchboard`, fx(cores(direct, 'ejabberd'), 2),
      `${fx(cores(sb, 'ejabberd'), 2)} / ${fx(cores(sb, 'switchboard'), 2)}`);
    num(`CPU ${name} (cores): server stack total`, (r) => cores(r, 'ejabberd') + cores(r, 'switchboard'), 2);
  }
  for (const name of ['before', 'during', 'after']) {
    const box = (r) => r.cpu_by_phase[name].box;
    row(`box ${name}: all CPU busy (cores) / not the servers / CPU pressure`,
      `${fx(box(direct).cores, 2)} / ${fx(box(direct).others_cores, 2)} / ${fx(100 * box(direct).cpu_pressure, 0)} %`,
      `${fx(box(sb).cores, 2)} / ${fx(box(sb).others_cores, 2)} / ${fx(100 * box(sb).cpu_pressure, 0)} %`);
  }
  const cpuS = (r, tree) => (r.cpu_by_phase.during[tree] ? r.cpu_by_phase.during[tree].cpu_s : 0);
  num('CPU ms of the stack per storm login (storm phase, chat included)',
    (r) => (1000 * (cpuS(r, 'ejabberd') + cpuS(r, 'switchboard'))) / r.storm.logged_in_during_storm, 2);
  row('switchboard: worker CPU s during the storm', '-', sb.worker_cpu_s_during_storm.join(' '));
  row('switchboard: logins refused for overload', '-', int(sb.overload_refusals));
  const pc = sb.pacer;
  row('switchboard: login rate admitted in the storm phase, median (min-max) /s', '-',
    pc ? `${int(pc.login_rate_median)} (${int(pc.login_rate_min)}-${int(pc.login_rate_max)})` : '-');
  row('switchboard: logins opening / queued, most at once; opening failures', '-',
    pc ? `${int(pc.in_progress_max)} / ${int(pc.queued_max)}; ${int(pc.opening_failures)}` : '-');
  row('switchboard: worker restarts (exited / hung)', '-', `${sb.worker_restarts.exited} / ${sb.worker_restarts.hung}`);
  row('switchboard: hand-overs refused / lost', '-', `${sb.handovers_refused} / ${sb.handovers_lost}`);
  const verdict = (g) => (g ? `${g.overloaded ? 'OVERLOADED' : 'kept up'} (lag max ${fx(g.max_loop_lag_ms, 0)} ms, ` +
    `${g.lagging_seconds} s lagging, ${g.procs} proc)` : '-');
  row('generator, established', verdict(direct.established.generator), verdict(sb.established.generator));
  row('generator, storm', verdict(direct.storm.generator), verdict(sb.storm.generator));
  out();
  const others = (r) => r.cpu_by_phase.during.box.others_cores;
  const gap = Math.abs(others(direct) - others(sb));
  const overloaded = [direct, sb].some((r) => [r.established.generator, r.storm.generator].some((g) => g && g.overloaded));
  out(`Comparable: ${gap <= 0.25 ? 'yes' : 'NO'}, the other work on the box during the storm differed by ${fx(gap, 2)} cores ` +
    `(${fx(others(direct), 2)} and ${fx(others(sb), 2)}; at most 0.25 for a fair pair)` +
    `${overloaded ? '; a generator said it was overloaded (above): its latency figures include its own delay' : '; every generator kept up'}.`);
  out('Phases: before = the 5 s before the storm, during = the storm phase, after = the rest of the established run. ' +
    'p99 and max are the worst second\'s; ratios below 1: switchboard in front does better. "=" both 0.');
  return lines.join('\n');
}

async function anchorMain(o, children, log) {
  console.log(`storm against ejabberd: ${o.established} established, then ${o.storm} logins asked at ${o.stormRate}/s; ` +
    `first ejabberd direct, then switchboard in front of a fresh ejabberd; reports in ${o.out}`);
  const direct = await anchorTarget(o, false, children, log);
  const sb = await anchorTarget(o, true, children, log);
  const text = anchorTable(direct, sb, o);
  console.log(text);
  const command = `node bench/storm.js ${process.argv.slice(2).join(' ')}`;
  fs.writeFileSync(path.join(o.out, 'table.md'), `${text}\n\ncommand: ${command}\n`);
  const gap = Math.abs(direct.cpu_by_phase.during.box.others_cores - sb.cpu_by_phase.during.box.others_cores);
  fs.writeFileSync(path.join(o.out, 'storm-anchor.json'), JSON.stringify({ command, options: o, comparable: gap <= 0.25,
    ejabberd_direct: direct, switchboard_ejabberd: sb }, null, 2));
  for (const [name, r] of [['ejabberd direct', direct], ['switchboard -> ejabberd', sb]]) {
    for (const [gen, g] of [['established', r.established.generator], ['storm', r.storm.generator]]) {
      if (g && g.overloaded) console.log(`${name}: generator ${gen} overloaded: ${g.verdict || JSON.stringify(g)}`);
    }
  }
}

async function main() {
  const o = parseArgs(process.argv);
  fs.mkdirSync(o.out, { recursive: true });
  const log = (msg) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
  const children = [];
  const stoppers = [];  // front ends first
  const stopAll = async () => {
    for (const c of children) await stop(c);
    for (const s of stoppers) await s();
    if (o.server === 'ejabberd') await require('./lib/soak_run').stopAll();
  };
  let stopping = false;
  const bail = (why, status) => async () => {
    if (stopping) return;
    stopping = true;
    log(`${why}: stopping everything`);
    await stopAll();
    process.exit(status);
  };
  process.on('SIGINT', bail('SIGINT', 130));
  process.on('SIGTERM', bail('SIGTERM', 130));
  const deadline = o.timeout > 0 ? setTimeout(bail(`overall timeout (${o.timeout} s)`, 2), o.timeout * 1000) : null;
  try {
    if (o.server === 'ejabberd') await anchorMain(o, children, log);
    else await stubMain(o, children, stoppers);
  } finally {
    if (deadline) clearTimeout(deadline);
    await stopAll();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
