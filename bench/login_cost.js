#!/usr/bin/env node
'use strict';
// CPU per login and per idle re-poll, in switchboard, in switchboard-soak (the
// client) and in switchboard-stub (the XMPP server), for two switchboard
// binaries in one invocation (issue 20's "each against the previous commit in
// the same run").
//
//   node bench/login_cost.js --baseline-bin /tmp/old/switchboard [--sessions 4000]
//        [--rate 400] [--rounds 3] [--transport bosh,websocket] [--idle-seconds 30]
//
// Each round starts, for each binary in turn (the order alternates by round),
// a fresh stub and a fresh switchboard (`--workers 1` unless --workers), then
// one soak that logs `--sessions` in at `--rate` a second (SASL ANONYMOUS,
// bind, initial presence: switchboard-soak's login) and holds them idle with
// wait=`--wait`. CPU seconds of each program are read from /proc before the
// first login, when the last one is in (per login), and again after
// `--idle-seconds` of idle holding (BOSH only: per re-poll, sessions x seconds
// / wait re-polls). The figures are medians over rounds; the ratio column is
// this binary over the baseline. /proc counts CPU in 10 ms ticks: a phase of a
// few seconds is what makes the figures exact to a few per cent.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { freePort } = require('../tests/lib/ports');
const { waitForPort, sleep } = require('../tests/lib/proc');
const { snapshot } = require('../tests/lib/proc_stats');
const { start, stop, SWITCHBOARD, STUB } = require('./lib/scale_stack');
const { startSoak, stopAll, stopOnTimeoutOrSignal } = require('./lib/soak_run');

function parseArgs(argv) {
  const opts = {
    sessions: 4000, rate: 400, rounds: 3, wait: 10, idleSeconds: 30, workers: 1,
    transports: ['bosh', 'websocket'], baselineBin: null, bin: SWITCHBOARD,
  };
  for (let i = 0; i < argv.length; i++) {
    const value = () => argv[++i];
    switch (argv[i]) {
      case '--sessions': opts.sessions = Number(value()); break;
      case '--rate': opts.rate = Number(value()); break;
      case '--rounds': opts.rounds = Number(value()); break;
      case '--wait': opts.wait = Number(value()); break;
      case '--idle-seconds': opts.idleSeconds = Number(value()); break;
      case '--workers': opts.workers = Number(value()); break;
      case '--transport': opts.transports = value().split(','); break;
      case '--baseline-bin': opts.baselineBin = path.resolve(value()); break;
      case '--bin': opts.bin = path.resolve(value()); break;
      default: throw new Error(`unknown argument ${argv[i]} (see the comment at the top)`);
    }
  }
  return opts;
}

const log = (line) => console.error(`[login_cost] ${line}`);
const cpu = (pid) => snapshot(pid).cpu;

/** One measured run of `bin` for `transport`: CPU seconds per program and phase. */
async function measure(bin, transport, opts) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-login-cost-'));
  const stubPort = await freePort();
  const sbPort = await freePort();
  const stub = await start(STUB, ['--listen', `127.0.0.1:${stubPort}`, '--log-level', 'warn'],
    { ready: /listening on/, logFile: path.join(dir, 'stub.log') });
  let sb = null;
  try {
    sb = await start(bin, ['--listen', `127.0.0.1:${sbPort}`, '--upstream', `127.0.0.1:${stubPort}`,
      '--workers', String(opts.workers), '--set', `max_sessions=${opts.sessions * 2}`,
      // The login pacer off: its initial rate (200/s per worker) would refuse
      // some of a faster ramp, and a refusal is not a login.
      '--set', 'max_logins_in_progress=0', '--log-level', 'warn'],
    { ready: null, logFile: path.join(dir, 'switchboard.log') });
    await waitForPort(sbPort);
    await sleep(1000);
    const url = transport === 'websocket' ? `ws://127.0.0.1:${sbPort}/xmpp-websocket` : `http://127.0.0.1:${sbPort}/http-bind`;
    const loginSeconds = opts.sessions / opts.rate;
    const duration = Math.ceil(loginSeconds + opts.idleSeconds + 30);
    const before = { sb: cpu(sb.pid), stub: cpu(stub.pid) };
    const soak = startSoak(['--url', url, '--transport', transport, '--sessions', String(opts.sessions),
      '--rate', String(opts.rate), '--duration', String(duration), '--wait', String(opts.wait),
      '--hold', '1', '--msg-rate', '0', '--max-errors', '1000000'], opts.sessions);
    const soakBefore = cpu(soak.child.pid);
    await soak.up;
    const loggedIn = soak.online();
    const afterLogin = { sb: cpu(sb.pid), stub: cpu(stub.pid), soak: cpu(soak.child.pid) };
    const loginWall = (soak.upAt() - Date.now()) / 1000 + loginSeconds;  // reported for context only
    let idle = null;
    if (transport === 'bosh' && opts.idleSeconds > 0) {
      // Past the login phase every session re-polls once per `wait`: start the
      // idle window one wait later, so that no login answer falls in it.
      await sleep(opts.wait * 1000);
      const idleStart = { sb: cpu(sb.pid), stub: cpu(stub.pid), soak: cpu(soak.child.pid) };
      await sleep(opts.idleSeconds * 1000);
      const idleEnd = { sb: cpu(sb.pid), stub: cpu(stub.pid), soak: cpu(soak.child.pid) };
      const repolls = loggedIn * opts.idleSeconds / opts.wait;
      idle = {};
      for (const who of ['sb', 'stub', 'soak']) idle[who] = (idleEnd[who] - idleStart[who]) / repolls;
    }
    const errors = soak.errors();
    soak.kill();
    await soak.done;
    const perLogin = {
      sb: (afterLogin.sb - before.sb) / loggedIn,
      stub: (afterLogin.stub - before.stub) / loggedIn,
      soak: (afterLogin.soak - soakBefore) / loggedIn,
    };
    return { loggedIn, errors, perLogin, idle, loginWall };
  } finally {
    await stop(sb);
    await stop(stub);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const us = (seconds) => (seconds * 1e6).toFixed(1);

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const cancel = stopOnTimeoutOrSignal(3600, log);
  const bins = opts.baselineBin ? [['baseline', opts.baselineBin], ['this', opts.bin]] : [['this', opts.bin]];
  const results = {};  // transport -> label -> [run]
  for (const transport of opts.transports) {
    results[transport] = {};
    for (const [label] of bins) results[transport][label] = [];
    for (let round = 0; round < opts.rounds; round++) {
      const order = round % 2 ? [...bins].reverse() : bins;
      for (const [label, bin] of order) {
        const run = await measure(bin, transport, opts);
        log(`${transport} round ${round + 1} ${label}: ${run.loggedIn} logged in, ${run.errors} errors, ` +
          `switchboard ${us(run.perLogin.sb)} µs/login` + (run.idle ? `, ${us(run.idle.sb)} µs/re-poll` : ''));
        results[transport][label].push(run);
      }
    }
  }
  cancel();
  console.log(`\nCPU per login and per idle re-poll (µs), medians of ${opts.rounds} rounds; ` +
    `${opts.sessions} sessions at ${opts.rate}/s, workers ${opts.workers}, wait ${opts.wait} s`);
  console.log('transport  | figure                       | ' + bins.map(([l]) => l.padStart(9)).join(' | ') + (bins.length > 1 ? ' |   ratio' : ''));
  for (const transport of opts.transports) {
    const rows = [['switchboard per login', (r) => r.perLogin.sb], ['soak per login', (r) => r.perLogin.soak],
      ['stub per login', (r) => r.perLogin.stub]];
    if (transport === 'bosh' && opts.idleSeconds > 0) {
      rows.push(['switchboard per re-poll', (r) => r.idle.sb], ['soak per re-poll', (r) => r.idle.soak],
        ['stub per re-poll', (r) => r.idle.stub]);
    }
    for (const [name, get] of rows) {
      const values = bins.map(([label]) => median(results[transport][label].map(get)));
      const ratio = values.length > 1 ? ` | ${(values[1] / values[0]).toFixed(3).padStart(7)}` : '';
      console.log(`${transport.padEnd(10)} | ${name.padEnd(28)} | ${values.map((v) => us(v).padStart(9)).join(' | ')}${ratio}`);
    }
    const errs = bins.map(([label]) => results[transport][label].reduce((a, r) => a + r.errors, 0));
    console.log(`${transport.padEnd(10)} | ${'errors (all rounds)'.padEnd(28)} | ${errs.map((e) => String(e).padStart(9)).join(' | ')}`);
  }
}

main().catch(async (err) => {
  console.error(err.stack || err.message);
  await stopAll();
  process.exit(1);
});
