#!/usr/bin/env node
'use strict';
// The scale run (issue "connection scale", benchmark a): switchboard-stub +
// switchboard + switchboard-soak, all on this machine, at several session counts.
// For each count N it starts a fresh stub (one process per ~15,000 sessions) and a
// fresh switchboard (`--workers auto` for N), then the soak: N sessions logged in
// at --rate, hold 1, wait 60, chatting at one message per second per 100 sessions,
// held for --hold-seconds after the last login. It prints, per count:
//   sessions held, switchboard RSS per session (all its processes, against its own
//   RSS before the first login, measured in the same run), switchboard CPU seconds
//   per 1,000 messages over the steady phase, latency percentiles, errors, lost
//   messages, and whether the generator itself was the bottleneck (its loop lag).
// The soak's JSON and HTML reports go to --out (PNG plots: scripts/report-png.js).
//
//   node bench/scale_run.js [--sessions 10000,50000,100000] [--hold-seconds 300]
//        [--rate 500] [--idle] [--out bench-out/scale]
//
// --idle: no chat messages, for the idle cost per session; hold at least 130 s so
// that every session's login-time cached responses have been replaced by two
// empty poll answers (wait 60) and the workers have trimmed their heaps.
// Memory is read by this script 5 s before the soak's run phase ends: RSS and its
// anonymous part (RssAnon: without the code and library pages, which a run
// touches once per process and which are shared between the workers anyway), and
// PSS, which charges each shared page once across all the processes.
//
// Binaries: SWITCHBOARD_BIN, STUB_BIN, SOAK_BIN, else build/ (scripts/demo.sh
// builds switchboard there; `cmake --build build` builds the tools too).
// Everything runs on loopback; every process is stopped by PID at the end.

const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { snapshot, MiB } = require('../tests/lib/proc_stats');

const { SOAK, stubProcs, SOAK_SESSIONS_PER_PROCESS, startStubAndSwitchboard, stop } = require('./lib/scale_stack');

function parseArgs(argv) {
  const args = { sessions: [10000, 50000, 100000], holdSeconds: 300, rate: 500, idle: false, out: 'bench-out/scale' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--idle') { args.idle = true; i -= 1; }
    else if (flag === '--sessions') args.sessions = value.split(',').map(Number);
    else if (flag === '--hold-seconds') args.holdSeconds = Number(value);
    else if (flag === '--rate') args.rate = Number(value);
    else if (flag === '--out') args.out = value;
    else throw new Error(`unknown option ${flag}`);
  }
  return args;
}

/** The figures of one count from the soak's report and the baseline RSS. */
function figures(report, baseline, loaded, sessions) {
  const points = report.timeline || [];
  const held = points.filter((p) => p.sessions >= sessions);
  const first = held[0];
  const last = held[held.length - 1];
  const sb = (p) => (p && p.watched && p.watched[0]) || null;
  const messages = held.slice(1).reduce((sum, p) => sum + (p.messages_received || 0), 0);
  const cpu = first && last && sb(first) && sb(last) ? sb(last).cpu_seconds - sb(first).cpu_seconds : NaN;
  return {
    sessions: report.sessions_established,
    peakHeld: Math.max(0, ...points.map((p) => p.sessions)),
    steadySeconds: first && last ? last.t - first.t : 0,
    rssPerSession: loaded ? (loaded.rss - baseline.rss) / sessions : NaN,
    anonPerSession: loaded ? (loaded.anon - baseline.anon) / sessions : NaN,
    pssPerSession: loaded ? (loaded.pss - baseline.pss) / sessions : NaN,
    // The whole of the loaded switchboard's memory, nothing subtracted: PSS counts
    // the pages its processes share once.
    pssTotalPerSession: loaded ? loaded.pss / sessions : NaN,
    rssTotal: loaded ? loaded.rss : NaN,
    pssTotal: loaded ? loaded.pss : NaN,
    workers: loaded ? loaded.processes - 1 : NaN,
    rss: last && sb(last) ? sb(last).rss_bytes : NaN,
    fds: last && sb(last) ? sb(last).open_fds : NaN,
    cpuPer1000: messages > 0 ? (cpu / messages) * 1000 : NaN,
    messages,
    latency: report.latency_ms,
    login: report.login_latency_ms,
    errors: report.errors,
    errorsByKind: report.errors_by_kind,
    lost: report.messages_lost,
    duplicated: report.messages_duplicated,
    generator: report.generator,
  };
}

async function runOne(n, args) {
  const dir = path.resolve(args.out, `n${n}`);
  fs.mkdirSync(dir, { recursive: true });
  const soakProcs = Math.max(1, Math.ceil(n / SOAK_SESSIONS_PER_PROCESS));
  let stub = null;
  let sb = null;
  let sbPort = 0;
  try {
    ({ stub, sb, sbPort } = await startStubAndSwitchboard(n, dir));
    const baseline = snapshot(sb.pid);
    const duration = Math.ceil(n / args.rate) + args.holdSeconds;
    const json = path.join(dir, 'report.json');
    console.log(`-- ${n} sessions: stub ${stubProcs(n)} procs, switchboard ${baseline.processes} processes ` +
      `(${MiB(baseline.rss)} before logins), soak ${soakProcs} procs, ${duration} s${args.idle ? ', idle' : ''}`);
    const soak = spawn(SOAK, ['--url', `http://127.0.0.1:${sbPort}/http-bind`, '--sessions', String(n),
      '--rate', String(args.rate), '--duration', String(duration), '--msg-rate', String(args.idle ? 0 : Math.max(1, n / 100)),
      '--hold', '1', '--wait', '60', '--procs', String(soakProcs), '--user-pattern', 'u%d', '--password', 'p%d',
      '--watch-pid', String(sb.pid), '--watch-pid', String(stub.pid),
      '--json', json, '--html', path.join(dir, 'report.html')], { stdio: ['ignore', 'inherit', 'inherit'] });
    let loaded = null;
    const reading = setTimeout(() => { loaded = snapshot(sb.pid); }, (duration - 5) * 1000);
    const status = await new Promise((resolve) => soak.on('exit', (code) => resolve(code)));
    clearTimeout(reading);
    const report = JSON.parse(fs.readFileSync(json, 'utf8'));
    return { n, status, ...figures(report, baseline, loaded, n) };
  } finally {
    await stop(sb);
    await stop(stub);
  }
}

function printTable(rows) {
  const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  console.log('\n| sessions | held | steady s | switchboard RSS (anon) / session | PSS / session (all of it) | fds | CPU s/1000 msgs | ' +
    'latency p50 / p90 / p99 / p99.9 / max ms | login p50 / p99 ms | errors | lost | dup | generator |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const l = r.latency || {};
    const g = r.login || {};
    console.log(`| ${r.n} | ${r.sessions} | ${f(r.steadySeconds)} | ${f(r.rssPerSession)} (${f(r.anonPerSession)}) B | ${f(r.pssPerSession)} (${f(r.pssTotalPerSession)}) B | ${f(r.fds)} | ` +
      `${f(r.cpuPer1000, 3)} | ${f(l.p50, 1)} / ${f(l.p90, 1)} / ${f(l.p99, 1)} / ${f(l.p999, 1)} / ${f(l.max, 1)} | ` +
      `${f(g.p50, 1)} / ${f(g.p99, 1)} | ${r.errors}${r.errors ? ` ${JSON.stringify(r.errorsByKind)}` : ''} | ` +
      `${r.lost} | ${r.duplicated} | ${r.generator && r.generator.overloaded ? 'OVERLOADED' : 'kept up'} |`);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const rows = [];
  for (const n of args.sessions) {
    const row = await runOne(n, args);
    rows.push(row);
    printTable([row]);
  }
  console.log('\nAll counts:');
  printTable(rows);
  fs.writeFileSync(path.resolve(args.out, 'summary.json'), JSON.stringify(rows, null, 2));
}

main().catch((err) => {
  console.error(err.stack || err.message);
  process.exit(1);
});
