#!/usr/bin/env node
'use strict';
// What keeping sessions costs (docs/crash.md): the same load three times in one
// invocation, first with keep_sessions = false (the baseline), then true, then
// true with a journal on disk (state_dir, a fresh directory under --out):
// switchboard-stub + switchboard (--workers N) + switchboard-soak, N sessions
// logging in at --rate and then chatting (one message per second per 100
// sessions) for --seconds. It prints, for each run and as a ratio:
//   the CPU time of the workers (and of the keepers) per request over the
//   chatting window, in microseconds (the soak's request count, /proc's CPU
//   times), and the resident memory the sessions added to the workers and the
//   keepers, per session, at its end (RSS then less RSS before the first login:
//   user space, the processes' own baseline left out); with the journal, the
//   bytes the keepers wrote per second (/proc's wchar) and per request.
//
//   node bench/keep_cost.js [--sessions 10000] [--workers 2] [--seconds 60] [--rate 500]
//        [--out bench-out/keep-cost]
//
// Binaries: SWITCHBOARD_BIN, STUB_BIN, SOAK_BIN, else build/.

const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { memory, cpuSeconds, MiB } = require('../tests/lib/proc_stats');
const { freePort } = require('../tests/lib/ports');
const { waitForPort, sleep } = require('../tests/lib/proc');
const { workerProcesses, keeperProcesses } = require('../tests/integration/lib/worker_procs');
const { SWITCHBOARD, STUB, SOAK, SOAK_SESSIONS_PER_PROCESS, stubProcs, upstreamSources, start, stop } = require('./lib/scale_stack');

function parseArgs(argv) {
  const args = { sessions: 10000, workers: 2, seconds: 60, rate: 500, out: 'bench-out/keep-cost' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--sessions') args.sessions = Number(value);
    else if (flag === '--workers') args.workers = Number(value);
    else if (flag === '--seconds') args.seconds = Number(value);
    else if (flag === '--rate') args.rate = Number(value);
    else if (flag === '--out') args.out = value;
    else throw new Error(`unknown option ${flag}`);
  }
  return args;
}

const sum = (pids, f) => pids.reduce((s, pid) => { try { return s + (f(pid) || 0); } catch { return s; } }, 0);

/** Bytes a process has written with write() and its kin (/proc/PID/io wchar). */
function wchar(pid) {
  const m = /^wchar: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

async function run(args, keep, dir, stateDir = '') {
  const n = args.sessions;
  fs.mkdirSync(dir, { recursive: true });
  const stubPort = await freePort();
  const sbPort = await freePort();
  let stub = null;
  let sb = null;
  try {
    stub = await start(STUB, ['--listen', `127.0.0.1:${stubPort}`, '--procs', String(stubProcs(n)), '--log-level', 'warn'],
      { ready: /listening on/, logFile: path.join(dir, 'stub.log') });
    sb = await start(SWITCHBOARD, ['--listen', `127.0.0.1:${sbPort}`, '--upstream', `127.0.0.1:${stubPort}`,
      '--set', `workers=${args.workers}`, '--set', `keep_sessions=${keep}`, '--set', `max_sessions=${Math.ceil(n * 1.1)}`,
      '--set', `state_dir=${stateDir}`,
      '--log-level', 'warn', ...upstreamSources(n)], { ready: null, logFile: path.join(dir, 'switchboard.log') });
    await waitForPort(sbPort);
    await sleep(1000);
    // Every process's memory before any session: what the sessions add is measured from here.
    const empty = {
      workers: sum(workerProcesses(sb.pid).map((w) => w.pid), (pid) => memory(pid).rss),
      keepers: sum(keeperProcesses(sb.pid).map((k) => k.pid), (pid) => memory(pid).rss),
    };
    const loginSeconds = Math.ceil(n / args.rate);
    const json = path.join(dir, 'report.json');
    const soak = spawn(SOAK, ['--url', `http://127.0.0.1:${sbPort}/http-bind`, '--sessions', String(n),
      '--rate', String(args.rate), '--duration', String(loginSeconds + 5 + args.seconds), '--msg-rate', String(Math.max(1, n / 100)),
      '--hold', '1', '--wait', '60', '--procs', String(Math.max(2, Math.ceil(n / SOAK_SESSIONS_PER_PROCESS))),
      '--user-pattern', 'u%d', '--password', 'p%d', '--json', json], { stdio: ['ignore', 'ignore', 'inherit'] });
    const done = new Promise((resolve) => soak.on('exit', resolve));
    await sleep((loginSeconds + 5) * 1000);
    const workers = workerProcesses(sb.pid).map((w) => w.pid);
    const keepers = keeperProcesses(sb.pid).map((k) => k.pid);
    const cpu0 = { workers: sum(workers, cpuSeconds), keepers: sum(keepers, cpuSeconds) };
    const written0 = sum(keepers, wchar);
    const started = Date.now();
    await sleep(args.seconds * 1000 - 1000);
    const cpu1 = { workers: sum(workers, cpuSeconds), keepers: sum(keepers, cpuSeconds) };
    const written = sum(keepers, wchar) - written0;
    const window = (Date.now() - started) / 1000;
    const rss = { workers: sum(workers, (pid) => memory(pid).rss), keepers: sum(keepers, (pid) => memory(pid).rss) };
    const added = { workers: rss.workers - empty.workers, keepers: rss.keepers - empty.keepers };
    await done;
    const report = JSON.parse(fs.readFileSync(json, 'utf8'));
    // The requests of the window: the timeline's per-second counts when it has
    // them, else the run's share by time.
    const points = (report.timeline || []).filter((p) => p.t >= loginSeconds + 5 && p.t < loginSeconds + 5 + window);
    const requests = points.length && points[0].requests !== undefined
      ? points.reduce((s, p) => s + (p.requests || 0), 0)
      : report.requests * (window / (loginSeconds + 5 + args.seconds));
    return { keep, journal: Boolean(stateDir), written, n, established: report.sessions_established, errors: report.errors, lost: report.messages_lost,
      requests, window, cpu: { workers: cpu1.workers - cpu0.workers, keepers: cpu1.keepers - cpu0.keepers }, rss, added };
  } finally {
    await stop(sb);
    await stop(stub);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const base = path.resolve(args.out, `n${args.sessions}-w${args.workers}`);
  console.log(`-- ${args.sessions} sessions on ${args.workers} workers, ${args.seconds} s chatting; keep_sessions false, then true, then true with a journal`);
  const off = await run(args, false, path.join(base, 'off'));
  const on = await run(args, true, path.join(base, 'on'));
  const stateDir = path.join(base, 'state');
  fs.rmSync(stateDir, { recursive: true, force: true });
  fs.mkdirSync(stateDir, { recursive: true });
  const journal = await run(args, true, path.join(base, 'journal'), stateDir);
  const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const us = (r, key) => (r.cpu[key] * 1e6) / r.requests;
  console.log('| keep_sessions | sessions | requests in the window | workers CPU µs / request | keepers CPU µs / request | ' +
    'workers RSS added / session (all) | keepers RSS added / session (all) | errors | lost |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of [off, on, journal]) {
    console.log(`| ${r.keep}${r.journal ? ' + journal' : ''} | ${r.established} | ${Math.round(r.requests)} | ${f(us(r, 'workers'))} | ${f(us(r, 'keepers'))} | ` +
      `${f(r.added.workers / r.established, 0)} B (${MiB(r.rss.workers)}) | ${f(r.added.keepers / r.established, 0)} B (${MiB(r.rss.keepers)}) | ${r.errors} | ${r.lost} |`);
  }
  const total = (r) => us(r, 'workers') + us(r, 'keepers');
  console.log(`with keepers: CPU per request ${f(total(on))} µs against ${f(total(off))} µs (${f(total(on) / total(off))}×, ` +
    `+${f((total(on) - total(off)) * 1000, 0)} ns); memory added per session ${f((on.added.workers + on.added.keepers) / on.established, 0)} B ` +
    `against ${f(off.added.workers / off.established, 0)} B`);
  console.log(`with the journal too: CPU per request ${f(total(journal))} µs (${f(total(journal) / total(off))}× the baseline, ` +
    `${f(total(journal) / total(on))}× keepers alone); keepers wrote ${f(journal.written / journal.window / 1024, 1)} KiB/s, ` +
    `${f(journal.written / journal.requests, 0)} B per request (${Math.round(journal.requests / journal.window)} requests/s)`);
  fs.writeFileSync(path.join(base, 'summary.json'), JSON.stringify({ off, on, journal }, null, 2));
}

main().catch((err) => {
  console.error(err.stack || err.message);
  process.exit(1);
});
