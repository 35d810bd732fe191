#!/usr/bin/env node
'use strict';
// flaky_strophe.js: the flaky link with real clients as ground truth.
//
// N real Strophe.js 5 clients (tests/integration/lib/strophe_pairs.js: Node,
// xhr2, a keep-alive agent each) chat in pairs through a TCP proxy that cuts a
// fraction of the requests (tests/lib/cutting_proxy.js: where in the
// request's life, and whether the server side sees RST, FIN or nothing), in
// front of a BOSH endpoint; then switchboard-soak runs the same load through the
// same kind of proxy (its own --drop off), and optionally with its own --drop and
// no proxy. The runs (--runs, in this order, each with its own users):
//
//   strophe       real Strophe.js through the proxy
//   soak          switchboard-soak (--client strophe, its default) through the proxy
//   classic       switchboard-soak --client classic through the proxy
//   soak-drop     switchboard-soak --drop CUT, no proxy
//   classic-drop  switchboard-soak --drop CUT --client classic, no proxy
//
// Every figure of the runs side by side, per endpoint:
//
//   prosody      Prosody 0.12's own mod_bosh
//   ejabberd     ejabberd 23.01's own mod_bosh
//   sb-prosody   switchboard in front of Prosody's c2s
//   sb-ejabberd  switchboard in front of ejabberd's c2s
//
// Every server is private (fresh temp folders, free loopback ports) and stopped
// by PID; the whole run has an overall timeout. Needs tests/integration's
// node_modules (strophe.js, xhr2, @xmldom/xmldom) and the built switchboard and
// switchboard-soak (SWITCHBOARD_BIN, SOAK_BIN, else build/).
//
//   node bench/flaky_strophe.js [--targets prosody,ejabberd,sb-prosody,sb-ejabberd]
//     [--runs strophe,soak] [--users 20] [--msg-rate 40] [--duration 30]
//     [--wait 10] [--cut 0.1] [--where mix|before|held|answer] [--how rst|fin|silent]
//     [--seed 1] [--drain 30] [--inactivity 30] [--soak-args '--client classic']
//     [--spare-logins] [--json FILE] [--timeout 900]
//
// --soak-args adds arguments to every soak run. Messages are counted as the soak
// counts them (tests/integration/lib/strophe_pairs.js); a run's drain ends early
// once every message sent has arrived, so a run that lost messages takes the
// whole --drain.

const fs = require('node:fs');
const path = require('node:path');
const { startSoak, startServer, track, stopOne, stopAll, stopOnTimeoutOrSignal } = require('./lib/soak_run');

const harness = path.join(__dirname, '..', 'tests', 'lib');
const integrationLib = path.join(__dirname, '..', 'tests', 'integration', 'lib');
const { Switchboard } = require(path.join(harness, 'switchboard'));
const { CuttingProxy } = require(path.join(harness, 'cutting_proxy'));

function parseArgs(argv) {
  const o = {
    targets: 'prosody,ejabberd,sb-prosody,sb-ejabberd', runs: 'strophe,soak', users: 20, msgRate: 40,
    duration: 30, wait: 10, cut: 0.1, where: 'mix', how: 'rst', seed: 1, drain: 30, inactivity: 30,
    soakArgs: '', spareLogins: false, json: null, timeout: 900, rate: 40,
  };
  const names = {
    '--targets': 'targets', '--runs': 'runs', '--users': 'users', '--msg-rate': 'msgRate', '--duration': 'duration',
    '--wait': 'wait', '--cut': 'cut', '--where': 'where', '--how': 'how', '--seed': 'seed', '--drain': 'drain',
    '--inactivity': 'inactivity', '--soak-args': 'soakArgs', '--json': 'json', '--timeout': 'timeout', '--rate': 'rate',
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--spare-logins') { o.spareLogins = true; continue; }
    const key = names[a];
    if (!key) throw new Error(`unknown option ${a}`);
    const v = argv[++i];
    o[key] = typeof o[key] === 'number' ? Number(v) : v;
  }
  o.targets = o.targets.split(',');
  o.runs = o.runs.split(',');
  if (o.users % 2) throw new Error('--users must be even (pairs)');
  return o;
}

const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

/** A fresh server (with its own mod_bosh when asked) and, for sb-*, switchboard in front. */
async function startTarget(target, o, accounts) {
  const kind = target.endsWith('ejabberd') ? 'ejabberd' : 'prosody';
  const own = !target.startsWith('sb-');
  const server = await startServer(kind, accounts, { options: { bosh: own, inactivity: o.inactivity } });
  let front = null;
  let url;
  if (own) {
    url = server.boshUrl;
  } else {
    front = track(new Switchboard({ upstreamPort: server.c2sPort, settings: { log_level: 'warn', inactivity: o.inactivity } }));
    front.front = true;
    await front.start();
    url = front.boshUrl;
  }
  const u = new URL(url);
  return { server, front, port: Number(u.port), path: u.pathname };
}

async function withProxy(t, o, seedOffset, fn) {
  const proxy = new CuttingProxy({
    targetPort: t.port, fraction: o.cut, where: o.where, how: o.how, waitMs: o.wait * 1000, seed: o.seed + seedOffset,
    spareLogins: o.spareLogins,
  });
  await proxy.start();
  try {
    const result = await fn(`${proxy.url}${t.path}`);
    return { ...result, proxy: { ...proxy.stats, cut_share: Number(proxy.cutShare().toFixed(3)) } };
  } finally {
    await proxy.stop();
  }
}

async function runStrophe(t, o, first) {
  const { runStrophePairs } = require(path.join(integrationLib, 'strophe_pairs'));
  return withProxy(t, o, 0, (url) => runStrophePairs({
    url, users: o.users, first, rate: o.rate, msgRate: o.msgRate, durationS: o.duration, drainS: o.drain, wait: o.wait,
    log: process.env.SB_VERBOSE ? log : () => {},
  }));
}

function soakSummary(report, status) {
  if (!report) return { error: `no report (exit ${status})` };
  return {
    client: 'switchboard-soak',
    sessions_target: report.sessions_target,
    sessions_established: report.sessions_established,
    sessions_ended: report.sessions_ended,
    errors_by_kind: report.errors_by_kind,
    messages_sent: report.messages_sent,
    messages_received: report.messages_received,
    messages_lost: report.messages_lost,
    messages_duplicated: report.messages_duplicated,
    messages_reordered: report.messages_reordered,
    requests: report.requests,
    drops: report.drops,
    resends: report.resends,
    exit_status: status,
  };
}

async function runSoakAt(url, o, first, extra) {
  const args = ['--url', url, '--user-pattern', 'u%d', '--password', 'p%d', '--first-user', String(first),
    '--sessions', String(o.users), '--rate', String(o.rate), '--msg-rate', String(o.msgRate),
    '--duration', String(o.duration), '--wait', String(o.wait), '--drain', String(o.drain), '--quiet',
    ...extra, ...(o.soakArgs ? o.soakArgs.split(/\s+/).filter(Boolean) : [])];
  log(`soak ${args.join(' ')}`);
  const soak = startSoak(args, o.users);
  const timer = setTimeout(() => soak.kill(), (o.duration + o.drain + 90) * 1000);
  const { status, report, output } = await soak.done;
  clearTimeout(timer);
  if (!report) log(output.slice(-2000));
  return soakSummary(report, status);
}

function row(name, r) {
  if (r.error) return `| ${name} | ${r.error} |`;
  const ended = { ...(r.ended_by || r.errors_by_kind || {}) };
  if (r.messages_echoed) ended.message_echoed = r.messages_echoed;
  const endedText = Object.entries(ended).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const cut = r.proxy ? `${r.proxy.cuts.before}/${r.proxy.cuts.held}/${r.proxy.cuts.answer} of ${r.proxy.requests}`
    : `${r.drops} of ${r.requests} (--drop)`;
  return `| ${name} | ${r.sessions_established}/${r.sessions_target} | ${r.sessions_ended} | ${endedText} | `
    + `${r.messages_sent} | ${r.messages_received} | ${r.messages_lost} | ${r.messages_duplicated} | ${cut} |`;
}

async function main() {
  const o = parseArgs(process.argv);
  const cancel = stopOnTimeoutOrSignal(o.timeout, log);
  const results = { options: o, started_at: new Date().toISOString(), targets: {} };
  const accounts = o.users * o.runs.length;
  try {
    for (const target of o.targets) {
      log(`${target}: starting`);
      const t = await startTarget(target, o, accounts);
      const res = {};
      let first = 1;
      for (const run of o.runs) {
        log(`${target}: ${run}`);
        if (run === 'strophe') res.strophe = await runStrophe(t, o, first);
        else if (run === 'soak' || run === 'classic') {
          const profile = run === 'soak' ? [] : ['--client', 'classic'];
          res[run] = await withProxy(t, o, 0, (url) => runSoakAt(url, o, first, profile));
        } else if (run === 'soak-drop' || run === 'classic-drop') {
          const profile = run === 'soak-drop' ? [] : ['--client', 'classic'];
          res[run] = await runSoakAt(`http://127.0.0.1:${t.port}${t.path}`, o, first, ['--drop', String(o.cut), ...profile]);
        } else throw new Error(`unknown run ${run}`);
        first += o.users;
        log(`${target}: ${run}: ${JSON.stringify(res[run])}`);
      }
      results.targets[target] = res;
      if (t.front) await stopOne(t.front);
      await stopOne(t.server);
    }
  } finally {
    cancel();
    await stopAll();
  }
  const lines = [
    `cut ${o.cut} of requests, where ${o.where}, how ${o.how}; ${o.users} users in pairs, ${o.msgRate} msg/s, ${o.duration} s, wait ${o.wait}`,
    '',
    '| endpoint / client | established | ended early | why | sent | received | lost | duplicated | cuts before/held/answer |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const [target, res] of Object.entries(results.targets)) {
    for (const [run, r] of Object.entries(res)) lines.push(row(`${target} / ${run}`, r));
  }
  console.log(lines.join('\n'));
  if (o.json) fs.writeFileSync(o.json, JSON.stringify(results, null, 2));
  process.exit(0);
}

main().catch(async (err) => {
  log(err.stack || err.message);
  await stopAll();
  process.exit(1);
});
