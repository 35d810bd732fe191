#!/usr/bin/env node
'use strict';
// A worker killed with SIGKILL under load (docs/crash.md): switchboard-stub +
// switchboard (--workers N, keep_sessions on: a keeper per worker) +
// switchboard-soak, all on this machine. N sessions log in at --rate and chat at
// one message per second per 100 sessions; --before seconds after the last
// login worker 0 gets SIGKILL; the chat goes on --after seconds more. It prints:
//   the dead worker's sessions that continue and end (with reasons: the
//   restarted worker's recovery line), the time from the kill to that line,
//   messages lost and duplicated, sessions the soak saw end, errors (the dead
//   worker's broken connections, each resent by its client as Strophe does),
//   message latency p99 and max in the seconds around the kill against the
//   --before seconds before it (the baseline of this same run, as a ratio), the
//   keepers' memory per kept session, and whether the generator kept up.
// --keep off runs the same with keep_sessions = false: the outcome a worker's
// death had before keepers (its sessions end). --transport websocket has the
// soak speak XMPP over WebSocket instead of BOSH (a kept session keeps its
// client's connection too: no error, no resend is the aim).
//
//   node bench/crash.js [--sessions 16000] [--workers 2] [--before 30]
//        [--after 30] [--rate 500] [--keep on|off] [--migrate 0|1]
//        [--transport bosh|websocket] [--journal on|off] [--out bench-out/crash]
//
// --journal on gives the keepers a state_dir (a fresh folder under --out) and
// prints what each keeper's journal logged last (records written per second,
// the lag from a worker's send to the write; switchboard then logs at info).
//
// --migrate sets net.ipv4.tcp_migrate_req for the run (and puts the old value
// back): 1, as deploy/sysctl.d recommends, moves the connections queued on the
// dying worker's listener to the other listeners instead of resetting them;
// the stock 0 resets them, and their clients retry after a back-off.
//
// One worker holds at most ~9,800 sessions under the 20,000-fd limit, and stops
// taking connections there (its listener closes): 16,000 sessions on 2 workers
// (8,000 each) leaves both listening, as a deployment would be sized.
//
// Binaries: SWITCHBOARD_BIN, STUB_BIN, SOAK_BIN, else build/. SB_BENCH_LOG_LEVEL
// sets switchboard's log level (default warn; the recovery line is a warning).

const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { memory, MiB } = require('../tests/lib/proc_stats');
const { freePort } = require('../tests/lib/ports');
const { waitForPort, sleep } = require('../tests/lib/proc');
const { workerProcesses, keeperProcesses } = require('../tests/integration/lib/worker_procs');
const { SWITCHBOARD, STUB, SOAK, SOAK_SESSIONS_PER_PROCESS, stubProcs, upstreamSources, start, stop } = require('./lib/scale_stack');

function parseArgs(argv) {
  const args = { sessions: 16000, workers: 2, before: 30, after: 30, rate: 500, keep: 'on', migrate: null,
    transport: 'bosh', journal: 'off', out: 'bench-out/crash' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--sessions') args.sessions = Number(value);
    else if (flag === '--workers') args.workers = Number(value);
    else if (flag === '--before') args.before = Number(value);
    else if (flag === '--after') args.after = Number(value);
    else if (flag === '--rate') args.rate = Number(value);
    else if (flag === '--keep') args.keep = value;
    else if (flag === '--migrate') args.migrate = value;
    else if (flag === '--out') args.out = value;
    else if (flag === '--transport') args.transport = value;
    else if (flag === '--journal') args.journal = value;
    else throw new Error(`unknown option ${flag}`);
  }
  return args;
}

const rssOf = (pid) => { try { return memory(pid).rss || 0; } catch { return 0; } };

/** The daemon's /metrics text ('' if it does not answer). */
function scrape(port) {
  return new Promise((resolve) => {
    const req = require('node:http').get({ host: '127.0.0.1', port, path: '/metrics', timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve(text));
    });
    req.on('error', () => resolve(''));
    req.on('timeout', () => req.destroy());
  });
}

/** Latency figures over the timeline's seconds in [from, to). */
function window(points, from, to) {
  const inside = points.filter((p) => p.t >= from && p.t < to && p.latency_ms);
  const worst = (key) => Math.max(0, ...inside.map((p) => p.latency_ms[key] || 0));
  return { seconds: inside.length, p99: worst('p99'), max: worst('max'),
    lag: Math.max(0, ...inside.map((p) => p.loop_lag_ms || 0)) };
}

const recoveryPattern = /keeper: (\d+) of (\d+) sessions continue after the last process of this worker(?:; ended: ([^(]*))? \((\d+) ms\)/;

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const n = args.sessions;
  if (!['bosh', 'websocket'].includes(args.transport)) throw new Error('--transport is bosh or websocket');
  const dir = path.resolve(args.out, `n${n}-w${args.workers}-${args.transport}-keep-${args.keep}${args.journal === 'on' ? '-journal' : ''}${args.migrate !== null ? `-migrate${args.migrate}` : ''}`);
  const stateDir = path.join(dir, 'state');
  fs.rmSync(stateDir, { recursive: true, force: true });
  if (args.journal === 'on') fs.mkdirSync(stateDir, { recursive: true });
  fs.mkdirSync(dir, { recursive: true });
  const stubPort = await freePort();
  const sbPort = await freePort();
  const metricsPort = await freePort();
  const soakProcs = Math.max(2, Math.ceil(n / SOAK_SESSIONS_PER_PROCESS));
  const logFile = path.join(dir, 'switchboard.log');
  const migratePath = '/proc/sys/net/ipv4/tcp_migrate_req';
  const migrateBefore = fs.readFileSync(migratePath, 'utf8').trim();
  let stub = null;
  let sb = null;
  try {
    if (args.migrate !== null) fs.writeFileSync(migratePath, args.migrate);
    console.log(`tcp_migrate_req ${fs.readFileSync(migratePath, 'utf8').trim()}`);
    stub = await start(STUB, ['--listen', `127.0.0.1:${stubPort}`, '--procs', String(stubProcs(n)), '--log-level', 'warn'],
      { ready: /listening on/, logFile: path.join(dir, 'stub.log') });
    sb = await start(SWITCHBOARD, ['--listen', `127.0.0.1:${sbPort}`, '--upstream', `127.0.0.1:${stubPort}`,
      '--set', `workers=${args.workers}`, '--set', `keep_sessions=${args.keep === 'on'}`,
      '--set', `max_sessions=${Math.ceil(n * 1.1)}`, '--set', `metrics_listen=127.0.0.1:${metricsPort}`,
      '--set', `state_dir=${args.journal === 'on' ? stateDir : ''}`,
      '--log-level', process.env.SB_BENCH_LOG_LEVEL || (args.journal === 'on' ? 'info' : 'warn'), ...upstreamSources(n)],
    { ready: null, logFile });
    await waitForPort(sbPort);
    await sleep(1000);  // every worker listening
    const loginSeconds = Math.ceil(n / args.rate);
    const duration = loginSeconds + args.before + args.after;
    const json = path.join(dir, 'report.json');
    console.log(`-- ${n} ${args.transport} sessions on ${args.workers} workers, keep_sessions ${args.keep}: logins ${loginSeconds} s, ` +
      `then ${args.before} s, SIGKILL to worker 0, then ${args.after} s; soak ${soakProcs} procs`);
    const soakStart = Date.now();
    const url = args.transport === 'bosh' ? `http://127.0.0.1:${sbPort}/http-bind` : `ws://127.0.0.1:${sbPort}/xmpp-websocket`;
    const soak = spawn(SOAK, ['--url', url, '--sessions', String(n),
      '--rate', String(args.rate), '--duration', String(duration), '--msg-rate', String(Math.max(1, n / 100)),
      '--hold', '1', '--wait', '60', '--procs', String(soakProcs), '--user-pattern', 'u%d', '--password', 'p%d',
      '--watch-pid', String(stub.pid), '--json', json, '--html', path.join(dir, 'report.html')],
    { stdio: ['ignore', 'inherit', 'inherit'] });
    const soakDone = new Promise((resolve) => soak.on('exit', (code) => resolve(code)));

    await sleep((loginSeconds + args.before) * 1000);
    const keepers = keeperProcesses(sb.pid);
    const keeperRss = keepers.reduce((sum, k) => sum + rssOf(k.pid), 0);
    const victim = workerProcesses(sb.pid).find((w) => w.index === 0);
    const victimRss = rssOf(victim.pid);
    const linesBefore = fs.readFileSync(logFile, 'utf8').split('\n').length;
    const killAt = (Date.now() - soakStart) / 1000;
    const killedMs = Date.now();
    process.kill(victim.pid, 'SIGKILL');
    let line = null;
    let recoveredMs = null;
    const deadline = Date.now() + 120000;
    while (args.keep === 'on' && Date.now() < deadline) {
      const fresh = fs.readFileSync(logFile, 'utf8').split('\n').slice(linesBefore - 1);
      line = fresh.find((l) => recoveryPattern.test(l)) || null;
      if (line) { recoveredMs = Date.now() - killedMs; break; }
      await sleep(10);
    }
    const status = await soakDone;
    const metrics = await scrape(metricsPort);
    const report = JSON.parse(fs.readFileSync(json, 'utf8'));
    const m = line ? recoveryPattern.exec(line) : null;
    const points = report.timeline || [];
    const base = window(points, killAt - args.before, killAt - 1);
    const during = window(points, Math.floor(killAt) - 1, Math.ceil(killAt) + 5);
    const later = window(points, Math.ceil(killAt) + 5, Infinity);
    const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
    if (line) console.log(`\n${line.slice(line.indexOf('keeper:'))}`);
    console.log(`| sessions | on worker 0: continued / kept | ended (reasons) | kill to recovery line | soak: ended | lost | dup | errors | resends | ` +
      `p99 before / around the kill (ratio) | max before / around (ratio) | keepers' RSS (per kept session) | generator |`);
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    const kept = m ? Number(m[2]) : 0;
    console.log(`| ${report.sessions_established} | ${m ? `${m[1]} / ${m[2]}` : '-'} | ${m ? (m[3] || 'none').trim() : '-'} | ` +
      `${recoveredMs === null ? '-' : `${recoveredMs} ms (${m[4]} ms taking them up)`} | ${report.sessions_ended} | ` +
      `${report.messages_lost} | ${report.messages_duplicated} | ${report.errors}${report.errors ? ` ${JSON.stringify(report.errors_by_kind)}` : ''} | ` +
      `${report.resends} | ${f(base.p99)} / ${f(during.p99)} ms (${f(during.p99 / base.p99, 2)}) | ` +
      `${f(base.max)} / ${f(during.max)} ms (${f(during.max / base.max, 2)}) | ` +
      `${MiB(keeperRss)} for ${keepers.length} (${kept ? f((keeperRss / keepers.length) / kept, 0) : '-'} B) | ` +
      `${report.generator && report.generator.overloaded ? 'OVERLOADED' : 'kept up'} (loop lag max ${f(Math.max(base.lag, during.lag, later.lag))} ms) |`);
    const pick = (pattern) => metrics.split('\n').filter((l) => pattern.test(l) && !l.startsWith('#')).join(', ') || 'none';
    console.log(`hand-overs: ${pick(/^switchboard_handovers_(relayed|dropped|refused|lost)_total/)}; ` +
      `refused requests: ${pick(/^switchboard_refused_requests_total\{reason="(connection_busy|unknown_sid|no_room|overload)"/)}`);
    if (args.journal === 'on') {
      const journalLines = fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => /\] journal: \d+ session records/.test(l));
      const last = new Map();
      for (const l of journalLines) last.set(/\[keeper (\d+)\]/.exec(l)[1], l.slice(l.indexOf('[keeper')));
      console.log(`journals (the last report of each keeper):\n${[...last.values()].join('\n') || 'none yet (the first comes a minute after the first write)'}`);
    }
    console.log(`worker 0 held ${MiB(victimRss)} when killed; after: p99 ${f(later.p99)} ms, max ${f(later.max)} ms over ${later.seconds} s; soak exit status ${status}`);
    fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ n, workers: args.workers, keep: args.keep, transport: args.transport, line,
      recoveredMs, base, during, later, keeperRss, keepers: keepers.length, victimRss,
      lost: report.messages_lost, duplicated: report.messages_duplicated, errors: report.errors,
      errorsByKind: report.errors_by_kind, resends: report.resends, ended: report.sessions_ended,
      established: report.sessions_established }, null, 2));
  } finally {
    await stop(sb);
    await stop(stub);
    if (args.migrate !== null) fs.writeFileSync(migratePath, migrateBefore);
  }
}

main().catch((err) => {
  console.error(err.stack || err.message);
  process.exit(1);
});
