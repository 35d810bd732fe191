#!/usr/bin/env node
'use strict';
// An upgrade in place under load (docs/upgrade.md): switchboard-stub + one
// switchboard (--workers 1, the default: the lone daemon hands itself over; more,
// or auto: every worker to its successor) + switchboard-soak, all on this
// machine. N sessions log in at --rate and chat at
// one message per second per 100 sessions; --before seconds after the last login
// the daemon gets SIGUSR2 (the binary at its path: the same build, rebuilt or
// not); the chat goes on --after seconds more. It prints:
//   sessions moved and ended (the new daemon's outcome line), messages lost and
//   duplicated, errors, the time from the signal to the last session moved and
//   sessions moved per second, message latency p99 and max in the seconds of the
//   move against the --before seconds before it (the baseline of this same run,
//   as a ratio), the old and new daemon's summed RSS at its peak during the
//   overlap against the old one's alone just before (every process of each
//   daemon: supervisor and workers), and whether the generator
//   kept up (its own loop lag).
// The soak's JSON and HTML reports (its timeline plots latency per second) go to
// --out.
//
//   node bench/upgrade.js [--sessions 9000] [--workers 1|N|auto] [--before 60]
//        [--after 30] [--rate 500] [--idle] [--new-binary PATH] [--out bench-out/upgrade]
//
// One worker holds at most ~9,800 sessions under the 20,000-fd limit (two
// descriptors each): the default is the largest round count it holds with room.
// --workers auto sizes the daemon for the sessions (max_sessions 10 % above, as
// the scale runs), e.g. 12 workers for 100,000.
// --idle: no messages (the largest idle count; the move itself is what is timed).
// --new-binary: the daemon runs from a copy of SWITCHBOARD_BIN in a temporary
// folder, and PATH (another build) replaces that copy just before SIGUSR2, as a
// package upgrade would: the upgrade is to a rebuilt binary.
//
// Binaries: SWITCHBOARD_BIN, STUB_BIN, SOAK_BIN, else build/. SB_BENCH_LOG_LEVEL
// sets switchboard's log level (default warn). Everything runs on
// loopback; every process is stopped by PID at the end.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { memory, processTree, MiB } = require('../tests/lib/proc_stats');
const { freePort } = require('../tests/lib/ports');
const { waitForPort, sleep } = require('../tests/lib/proc');
const { SWITCHBOARD, STUB, SOAK, SOAK_SESSIONS_PER_PROCESS, stubProcs, upstreamSources, start, stop } = require('./lib/scale_stack');

function parseArgs(argv) {
  const args = { sessions: 9000, workers: '1', before: 60, after: 30, rate: 500, idle: false, newBinary: null, out: 'bench-out/upgrade' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--idle') { args.idle = true; i -= 1; }
    else if (flag === '--sessions') args.sessions = Number(value);
    else if (flag === '--workers') args.workers = value;
    else if (flag === '--new-binary') args.newBinary = path.resolve(value);
    else if (flag === '--before') args.before = Number(value);
    else if (flag === '--after') args.after = Number(value);
    else if (flag === '--rate') args.rate = Number(value);
    else if (flag === '--out') args.out = value;
    else throw new Error(`unknown option ${flag}`);
  }
  return args;
}

const rssOf = (pid) => { try { return memory(pid).rss || 0; } catch { return 0; } };
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const treeRss = (pids) => [...new Set(pids.flatMap(processTree))].reduce((sum, pid) => sum + rssOf(pid), 0);

/** The outcome line the new daemon writes beside the pid file (docs/upgrade.md). */
async function outcome(pidFile, oldPid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let line = '';
    try { line = fs.readFileSync(`${pidFile}.upgrade`, 'utf8').trim(); } catch { /* not yet */ }
    if (line.startsWith(`${oldPid} `)) return line;
    if (Date.now() > deadline) throw new Error(`no upgrade outcome from pid ${oldPid} in ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Latency figures over the timeline's seconds in [from, to). */
function window(points, from, to) {
  const inside = points.filter((p) => p.t >= from && p.t < to && p.latency_ms);
  const worst = (key) => Math.max(0, ...inside.map((p) => p.latency_ms[key] || 0));
  return { seconds: inside.length, p99: worst('p99'), max: worst('max'),
    lag: Math.max(0, ...inside.map((p) => p.loop_lag_ms || 0)) };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const n = args.sessions;
  const dir = path.resolve(args.out, `n${n}-w${args.workers}${args.idle ? '-idle' : ''}`);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-upgrade-bench-'));
  const pidFile = path.join(tmp, 'switchboard.pid');
  // With --new-binary the daemon runs from a copy, which the other build replaces.
  let binary = SWITCHBOARD;
  if (args.newBinary) {
    binary = path.join(tmp, 'switchboard');
    fs.copyFileSync(SWITCHBOARD, binary);
    fs.chmodSync(binary, 0o755);
  }
  const stubPort = await freePort();
  const sbPort = await freePort();
  // Two generator processes at least: one alone lagged at 9,000 logins (its loop
  // lag is printed, so a run can tell).
  const soakProcs = Math.max(2, Math.ceil(n / SOAK_SESSIONS_PER_PROCESS));
  let stub = null;
  let sb = null;
  let newPid = 0;
  try {
    stub = await start(STUB, ['--listen', `127.0.0.1:${stubPort}`, '--procs', String(stubProcs(n)), '--log-level', 'warn'],
      { ready: /listening on/, logFile: path.join(dir, 'stub.log') });
    const several = args.workers !== '1';
    sb = await start(binary, ['--listen', `127.0.0.1:${sbPort}`, '--upstream', `127.0.0.1:${stubPort}`,
      '--set', `workers=${args.workers === 'auto' ? 0 : args.workers}`, '--set', `pid_file=${pidFile}`,
      ...(several ? ['--set', `max_sessions=${Math.ceil(n * 1.1)}`] : []),
      '--log-level', process.env.SB_BENCH_LOG_LEVEL || 'warn', ...upstreamSources(n)],
    { ready: null, logFile: path.join(dir, 'switchboard.log') });
    await waitForPort(sbPort);
    if (several) await sleep(1000);  // every worker listening
    const loginSeconds = Math.ceil(n / args.rate);
    const duration = loginSeconds + args.before + args.after;
    const json = path.join(dir, 'report.json');
    console.log(`-- ${n} sessions${args.idle ? ' (idle)' : ''}, workers ${args.workers}: logins ${loginSeconds} s, then ${args.before} s, ` +
      `SIGUSR2, then ${args.after} s; soak ${soakProcs} procs`);
    const soakStart = Date.now();
    const soak = spawn(SOAK, ['--url', `http://127.0.0.1:${sbPort}/http-bind`, '--sessions', String(n),
      '--rate', String(args.rate), '--duration', String(duration),
      '--msg-rate', String(args.idle ? 0 : Math.max(1, n / 100)),
      '--hold', '1', '--wait', '60', '--procs', String(soakProcs), '--user-pattern', 'u%d', '--password', 'p%d',
      '--watch-pid', String(stub.pid), '--json', json, '--html', path.join(dir, 'report.html')],
    { stdio: ['ignore', 'inherit', 'inherit'] });
    const soakDone = new Promise((resolve) => soak.on('exit', (code) => resolve(code)));

    await sleep((loginSeconds + args.before) * 1000);
    const oldPid = sb.pid;
    const workers = processTree(oldPid).length - 1;
    const before = treeRss([oldPid]);
    if (args.newBinary) {
      fs.copyFileSync(args.newBinary, `${binary}.new`);
      fs.chmodSync(`${binary}.new`, 0o755);
      fs.renameSync(`${binary}.new`, binary);
    }
    const signalAt = (Date.now() - soakStart) / 1000;
    process.kill(oldPid, 'SIGUSR2');
    // Peak memory of the two daemons while both live, sampled every 20 ms.
    let peak = before;
    // The new daemon starts as the old one's child: the old tree holds both
    // until the old one exits.
    const sampler = setInterval(() => {
      peak = Math.max(peak, treeRss(newPid ? [oldPid, newPid] : [oldPid]));
    }, 20);
    const line = await outcome(pidFile, oldPid, 180000);
    console.log(`(the daemon ran ${workers} worker process${workers === 1 ? '' : 'es'} under pid ${oldPid})`);
    newPid = Number(line.split(' ')[1]);
    const deadline = Date.now() + 30000;
    while (alive(oldPid) && Date.now() < deadline) await sleep(20);
    clearInterval(sampler);
    const after = treeRss([newPid]);
    const status = await soakDone;
    const report = JSON.parse(fs.readFileSync(json, 'utf8'));

    const m = /(\d+) sessions moved, (\d+) ended \(([^)]*)\), ([\d.]+) s/.exec(line);
    const moved = m ? Number(m[1]) : NaN;
    const seconds = m ? Number(m[4]) : NaN;
    const points = report.timeline || [];
    const base = window(points, signalAt - args.before, signalAt - 1);
    const during = window(points, Math.floor(signalAt) - 1, Math.ceil(signalAt + seconds) + 2);
    const later = window(points, Math.ceil(signalAt + seconds) + 2, Infinity);
    const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
    console.log(`\n${line.slice(line.indexOf('upgrade:'))}`);
    console.log(`| sessions | moved | ended | lost | dup | errors | signal to last moved | moved / s | ` +
      `p99 before / during (ratio) | max before / during (ratio) | RSS before → peak (ratio) → new alone | generator |`);
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    console.log(`| ${report.sessions_established} | ${moved} | ${m ? m[2] : '-'}${m && m[3] !== 'none' ? ` (${m[3]})` : ''} | ` +
      `${report.messages_lost} | ${report.messages_duplicated} | ${report.errors}${report.errors ? ` ${JSON.stringify(report.errors_by_kind)}` : ''} | ` +
      `${f(seconds, 3)} s | ${f(moved / seconds, 0)} | ${f(base.p99)} / ${f(during.p99)} ms (${f(during.p99 / base.p99, 2)}) | ` +
      `${f(base.max)} / ${f(during.max)} ms (${f(during.max / base.max, 2)}) | ` +
      `${MiB(before)} → ${MiB(peak)} (${f(peak / before, 2)}) → ${MiB(after)} | ` +
      `${report.generator && report.generator.overloaded ? 'OVERLOADED' : 'kept up'} (loop lag max ${f(Math.max(base.lag, during.lag, later.lag))} ms) |`);
    if (args.newBinary) {
      const sha = (file) => require('node:crypto').createHash('sha256').update(fs.readFileSync(file)).digest('hex');
      const same = sha(`/proc/${newPid}/exe`) === sha(args.newBinary);
      const differs = sha(SWITCHBOARD) !== sha(args.newBinary);
      console.log(`the new daemon runs ${args.newBinary}: ${same ? 'yes' : 'NO'} (a different file from the old one's: ${differs ? 'yes' : 'no'})`);
    }
    console.log(`after the move: p99 ${f(later.p99)} ms, max ${f(later.max)} ms over ${later.seconds} s; soak exit status ${status}`);
    fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ n, line, moved, seconds, base, during, later,
      rss: { before, peak, after }, lost: report.messages_lost, duplicated: report.messages_duplicated,
      errors: report.errors, established: report.sessions_established }, null, 2));
  } finally {
    if (newPid && alive(newPid)) {
      process.kill(newPid, 'SIGTERM');
      for (let i = 0; i < 300 && alive(newPid); i += 1) await sleep(50);
      if (alive(newPid)) process.kill(newPid, 'SIGKILL');
    }
    await stop(sb);
    await stop(stub);
  }
}

main().catch((err) => {
  console.error(err.stack || err.message);
  process.exit(1);
});
