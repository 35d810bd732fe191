#!/usr/bin/env node
'use strict';
// The ceiling run (issue "connection scale", benchmark b): stub + switchboard +
// soak on this machine, as in bench/scale_run.js, but one ramp of logins that
// goes on until the first error, until the box's available memory falls to a
// reserve, until --target sessions or until --max-seconds: whichever comes
// first. Sessions are idle chat sessions (hold 1, wait 60: each keeps one long
// poll held and re-polls once a minute, as an idle Strophe.js tab does), or
// chatting with --msg-per-100 (messages per second per 100 sessions).
//
// It prints the count reached, what stopped it, and for that count: the memory
// of the whole box (MemTotal - MemAvailable against the same figure before the
// run), of switchboard (all its processes: RSS and PSS), of the generator and of
// the stub, the kernel's TCP sockets and their buffer pages (/proc/net/sockstat),
// the descriptors, ports and CPU it took, and from those per-session costs a
// projection to 1,000,000 sessions on this box: which resource would run out
// first and at what count.
//
//   node bench/ceiling_run.js [--target 1000000] [--rate 1000] [--reserve-gib 2]
//        [--max-seconds 1500] [--msg-per-100 0] [--settle 20] [--out bench-out/ceiling]
//
// On a stop it sends the soak SIGUSR1 (no more logins; those online stay up),
// measures, then SIGTERM: the generator ends its run phase, closes every
// session and writes its reports (JSON, HTML) as at the end of a run.
// Everything runs on loopback; every process is stopped by PID at the end.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { sleep } = require('../tests/lib/proc');
const { snapshot, cpuSeconds, processTree, MiB } = require('../tests/lib/proc_stats');
const { SOAK, SOAK_SESSIONS_PER_PROCESS, stubProcs, startStubAndSwitchboard, stop } = require('./lib/scale_stack');

const FD_LIMIT = 20000;  // per process here; it cannot be raised
const GiB = 1024 ** 3;

function parseArgs(argv) {
  const args = { target: 1000000, rate: 1000, reserveGiB: 2, maxSeconds: 1500, msgPer100: 0, settle: 20, out: 'bench-out/ceiling' };
  const flags = { '--target': 'target', '--rate': 'rate', '--reserve-gib': 'reserveGiB', '--max-seconds': 'maxSeconds',
    '--msg-per-100': 'msgPer100', '--settle': 'settle' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--out') args.out = value;
    else if (flags[flag] && Number.isFinite(Number(value))) args[flags[flag]] = Number(value);
    else throw new Error(`unknown option or bad value: ${flag} ${value ?? ''}`);
  }
  return args;
}

/** /proc/meminfo in bytes. */
function meminfo() {
  const out = {};
  for (const line of fs.readFileSync('/proc/meminfo', 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]] = Number(m[2]) * 1024;
  }
  return out;
}

/** TCP sockets in use and the pages their buffers hold, from /proc/net/sockstat. */
function sockstat() {
  const text = fs.readFileSync('/proc/net/sockstat', 'utf8');
  const m = /TCP: inuse (\d+) orphan (\d+) tw (\d+) alloc (\d+) mem (\d+)/.exec(text);
  return m ? { inuse: Number(m[1]), tw: Number(m[3]), alloc: Number(m[4]), memBytes: Number(m[5]) * 4096 } : null;
}

/** Kernel slab memory (SUnreclaim + SReclaimable): where socket structures live. */
const slab = (mi) => (mi.SUnreclaim || 0) + (mi.SReclaimable || 0);
const used = (mi) => mi.MemTotal - mi.MemAvailable;

/** CPU seconds of a process tree. */
function treeCpu(pid) {
  let sum = 0;
  for (const p of processTree(pid)) {
    try { sum += cpuSeconds(p); } catch { /* gone */ }
  }
  return sum;
}

/** Everything measured at one moment. */
function measure(stack, soakPid) {
  const mi = meminfo();
  return {
    at: Date.now(),
    used: used(mi),
    slab: slab(mi),
    available: mi.MemAvailable,
    sockets: sockstat(),
    sb: snapshot(stack.sb.pid),
    stub: snapshot(stack.stub.pid),
    soak: soakPid ? snapshot(soakPid) : null,
    cpu: { sb: treeCpu(stack.sb.pid), stub: treeCpu(stack.stub.pid), soak: soakPid ? treeCpu(soakPid) : 0 },
  };
}

/** The first resource to run out at 1,000,000 sessions, from the per-session costs at `n`. */
function project(n, base, at, idleCpuPerSessionSecond, args) {
  const per = (x) => x / n;
  const memPerSession = per(at.used - base.used);
  const usable = meminfo().MemTotal - args.reserveGiB * GiB - base.used;
  const sbFdsPerSession = per(at.sb.fds - base.sb.fds);
  const cores = os.cpus().length;
  const limits = [
    { resource: 'memory (whole box)', perSession: `${memPerSession.toFixed(0)} B`, sessions: usable / memPerSession },
    // CPU: the steady cost of idle sessions (their re-polls) of the whole stack,
    // switchboard alone in brackets; logins are the ramp's, not the steady state's.
    { resource: `CPU (${cores} cores, whole stack idle)`, perSession: `${(idleCpuPerSessionSecond.all * 1e6).toFixed(2)} µs/s`,
      sessions: cores / idleCpuPerSessionSecond.all },
  ];
  // The kernel's share per open socket, so that a box running switchboard alone
  // (the generator and the upstream elsewhere) can be sized: 2 sockets a session.
  const sockets = at.sockets && base.sockets ? at.sockets.inuse - base.sockets.inuse : 0;
  const slabPerSocket = sockets > 0 ? (at.slab - base.slab) / sockets : 0;
  const at1M = {
    memoryGiB: (base.used + memPerSession * 1e6) / GiB,
    switchboardGiB: (per(at.sb.pss - base.sb.pss) * 1e6) / GiB,
    switchboardBoxGiB: ((per(at.sb.pss - base.sb.pss) + 2 * slabPerSocket) * 1e6) / GiB,
    switchboardFds: sbFdsPerSession * 1e6,
    switchboardWorkers: Math.ceil((sbFdsPerSession * 1e6) / (FD_LIMIT * 0.98)),
    generatorProcs: Math.ceil(1e6 / SOAK_SESSIONS_PER_PROCESS),
    stubProcs: stubProcs(1e6),
    cpuCoresIdle: idleCpuPerSessionSecond.all * 1e6,
    cpuCoresIdleSwitchboard: idleCpuPerSessionSecond.sb * 1e6,
  };
  limits.sort((a, b) => a.sessions - b.sessions);
  return { memPerSession, slabPerSocket, limits, at1M };
}

function classify(stopReason, report) {
  if (stopReason !== 'first error' || !report) return stopReason;
  const kinds = Object.entries(report.errors_by_kind || {}).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`);
  return `first error (${kinds.join(', ') || 'see the report'})`;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const dir = path.resolve(args.out);
  fs.mkdirSync(dir, { recursive: true });
  const portRange = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  console.log(`ceiling run: target ${args.target} at ${args.rate} logins/s, stop at the first error, at ` +
    `${args.reserveGiB} GiB available, or after ${args.maxSeconds} s; ports ${portRange.join('-')}, ` +
    `somaxconn ${fs.readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim()}, ` +
    `tcp_migrate_req ${fs.readFileSync('/proc/sys/net/ipv4/tcp_migrate_req', 'utf8').trim()}`);
  const stack = await startStubAndSwitchboard(args.target, dir);
  let soak = null;
  let soakExit = null;
  const stopEverything = async () => {
    if (soak && soak.exitCode === null) { try { process.kill(-soak.pid, 'SIGKILL'); } catch { /* gone */ } }
    await stop(stack.sb);
    await stop(stack.stub);
  };
  process.on('SIGINT', () => { stopEverything().finally(() => process.exit(130)); });
  try {
    const base = measure(stack, null);
    console.log(`before: box ${MiB(base.used)} used, switchboard ${base.sb.processes} processes ${MiB(base.sb.rss)}, ` +
      `stub ${base.stub.processes} processes ${MiB(base.stub.rss)}`);
    const json = path.join(dir, 'report.json');
    const soakProcs = Math.max(1, Math.ceil(args.target / SOAK_SESSIONS_PER_PROCESS));
    const duration = Math.ceil(args.target / args.rate) + args.maxSeconds;
    soak = spawn(SOAK, ['--url', `http://127.0.0.1:${stack.sbPort}/http-bind`, '--sessions', String(args.target),
      '--rate', String(args.rate), '--duration', String(duration), '--msg-rate', String((args.target / 100) * args.msgPer100),
      '--hold', '1', '--wait', '60', '--procs', String(soakProcs), '--user-pattern', 'u%d', '--password', 'p%d',
      '--watch-pid', String(stack.sb.pid), '--watch-pid', String(stack.stub.pid),
      '--json', json, '--html', path.join(dir, 'report.html')], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    const exited = new Promise((resolve) => soak.on('exit', (code) => { soakExit = code; resolve(code); }));
    let sessions = 0;
    let errors = 0;
    let pending = '';
    const log = fs.openSync(path.join(dir, 'soak.log'), 'w');
    soak.stdout.on('data', (d) => {
      fs.writeSync(log, d);
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) {
        const m = /sessions (\d+)\/\d+ .*errors (\d+)/.exec(line);
        if (m) { sessions = Number(m[1]); errors = Number(m[2]); }
        if (/^\[\s*\d+s\]/.test(line) && Number(line.match(/^\[\s*(\d+)s\]/)[1]) % 10 === 0) console.log(line);
      }
    });

    // Follow the ramp once a second until a stop condition.
    const t0 = Date.now();
    let stopReason = null;
    let peak = null;
    while (!stopReason) {
      await sleep(1000);
      const mi = meminfo();
      if (soakExit !== null) stopReason = 'the generator ended';
      else if (errors > 0) stopReason = 'first error';
      else if (mi.MemAvailable < args.reserveGiB * GiB) stopReason = `memory (${MiB(mi.MemAvailable)} available)`;
      else if (sessions >= args.target) stopReason = 'target reached';
      else if (Date.now() - t0 > args.maxSeconds * 1000) stopReason = `time (${args.maxSeconds} s)`;
    }
    const reached = sessions;
    console.log(`stopping at ${reached} sessions: ${stopReason}`);
    // SIGUSR1: the soak starts no more logins and keeps those online up. Let
    // them settle (the logins' CPU over, their login answers replaced by poll
    // answers), then measure the steady idle cost over --settle seconds.
    if (soakExit === null) soak.kill('SIGUSR1');
    await sleep(Math.min(args.settle, 5) * 1000);
    const m1 = measure(stack, soak.pid);
    await sleep(Math.max(1, args.settle - 5) * 1000);
    const m2 = measure(stack, soak.pid);
    peak = m2;
    const held = sessions;
    const dt = (m2.at - m1.at) / 1000;
    const idleCpu = {
      all: (m2.cpu.sb + m2.cpu.stub + m2.cpu.soak - m1.cpu.sb - m1.cpu.stub - m1.cpu.soak) / dt / Math.max(1, held),
      sb: (m2.cpu.sb - m1.cpu.sb) / dt / Math.max(1, held),
    };
    if (soakExit === null) soak.kill('SIGTERM');
    const timeout = setTimeout(() => { try { process.kill(-soak.pid, 'SIGKILL'); } catch { /* gone */ } }, 300000);
    await exited;
    clearTimeout(timeout);
    let report = null;
    try { report = JSON.parse(fs.readFileSync(json, 'utf8')); } catch { /* killed */ }

    const n = Math.max(1, held);
    const proj = project(n, base, peak, idleCpu, args);
    const per = (a, b) => `${((a - b) / n).toFixed(0)} B`;
    const rows = [
      ['sessions reached (online when the ramp stopped)', `${reached}`],
      ['sessions held while measured', `${held}`],
      ['what stopped it', classify(stopReason, report)],
      ['ramp', `${((Date.now() - t0) / 1000).toFixed(0)} s at ${args.rate} logins/s asked`],
      ['login latency p50 / p99 / max ms', report ? `${report.login_latency_ms.p50} / ${report.login_latency_ms.p99} / ${report.login_latency_ms.max}` : '-'],
      ['errors', report ? `${report.errors} ${JSON.stringify(report.errors_by_kind)}` : `${errors}`],
      ['generator', report && report.generator ? report.generator.verdict || JSON.stringify(report.generator) : '-'],
      ['box memory used / session', per(peak.used, base.used)],
      ['  of it kernel slab / session', per(peak.slab, base.slab)],
      ['  TCP sockets in use, in TIME_WAIT, buffer memory', peak.sockets ? `${peak.sockets.inuse} (${(peak.sockets.inuse / n).toFixed(2)}/session), ${peak.sockets.tw}, ${MiB(peak.sockets.memBytes)}` : '-'],
    ['  kernel slab / open TCP socket', `${proj.slabPerSocket.toFixed(0)} B`],
      ['switchboard RSS / PSS / session', `${per(peak.sb.rss, base.sb.rss)} / ${per(peak.sb.pss, base.sb.pss)} (${peak.sb.processes} processes)`],
      ['generator RSS / session', peak.soak ? `${(peak.soak.rss / n).toFixed(0)} B (${peak.soak.processes} processes)` : '-'],
      ['stub RSS / session', per(peak.stub.rss, base.stub.rss)],
      ['switchboard fds', `${peak.sb.fds} (${((peak.sb.fds - base.sb.fds) / n).toFixed(2)}/session)`],
      ['idle CPU, whole stack / switchboard', `${(idleCpu.all * n).toFixed(2)} / ${(idleCpu.sb * n).toFixed(2)} cores for ${n} sessions`],
      ['--- projection to 1,000,000 sessions', ''],
      ['box memory', `${proj.at1M.memoryGiB.toFixed(1)} GiB of ${(meminfo().MemTotal / GiB).toFixed(1)}`],
      ['switchboard memory (PSS)', `${proj.at1M.switchboardGiB.toFixed(2)} GiB`],
      ['a switchboard-only box (its PSS + the kernel for its 2 sockets a session)', `${proj.at1M.switchboardBoxGiB.toFixed(1)} GiB`],
      ['switchboard fds / workers', `${proj.at1M.switchboardFds.toFixed(0)} / ${proj.at1M.switchboardWorkers} at ${FD_LIMIT} fds each`],
      ['generator / stub processes', `${proj.at1M.generatorProcs} / ${proj.at1M.stubProcs}`],
      ['idle CPU, whole stack (switchboard)', `${proj.at1M.cpuCoresIdle.toFixed(2)} (${proj.at1M.cpuCoresIdleSwitchboard.toFixed(2)}) cores of ${os.cpus().length}`],
      ...proj.limits.map((l) => [`limit: ${l.resource}`, `${l.perSession} per session -> ${Math.floor(l.sessions).toLocaleString('en')} sessions`]),
    ];
    console.log('\n| ceiling run | |\n| --- | --- |');
    for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
    fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ args, reached, held, stopReason, base, peak, idleCpu, proj, soakExit }, null, 2));
  } finally {
    await stopEverything();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err.stack || err.message);
    process.exit(1);
  });
}
