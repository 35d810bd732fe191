'use strict';
// The hand-over with many workers: how many hand-overs per second the supervisor
// relays, what a hand-over adds to a request's latency, and what 100 workers cost
// in memory (docs/benchmarks.md, "Hand-over with 100 workers").
//
// For each worker count (100, and 2 as the baseline, in the same invocation) it
// starts switchboard in front of the conformance suite's scripted XMPP server,
// creates polling sessions (hold=0, so every request is answered at once) and
// then sends each request on a fresh TCP connection: the kernel picks the worker
// at random, so with W workers (W-1)/W of the requests reach a worker that does
// not own their session and are handed over (socket and request through the
// supervisor to the owner). Each connection then carries a second request, which
// reaches the owner directly (the connection lives there now): the same request
// with no hand-over and no connect, measured on the same connections.
//
// Which first requests were handed over is read from switchboard's debug log
// ("connection handed over to worker N (from 127.0.0.1 port P)"), by the client's port, so the
// two latency distributions (handed over or not) come from the same run. Latency
// of a first request runs from the TCP connect to its whole response; of a second
// one from its write to its response.
//
//   node bench/handover.js [--workers 100,2] [--sessions 200] [--requests 4000]
//                          [--concurrency 4]
//
// It prints, per worker count: hand-overs per second (the client's rate at that
// concurrency; the supervisor's CPU per hand-over says what is left), p50/p99 of
// each kind of request and their ratios, and (with 100 workers) the supervisor's
// RSS and each worker's idle RSS. Everything runs on loopback, stops itself and
// is stopped by PID.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { findBinary } = require('../tests/lib/switchboard');
const { freePort } = require('../tests/lib/ports');
const { startLogged, waitForPort, stopProcess, sleep } = require('../tests/lib/proc');
const { ScriptedUpstream } = require('../tests/lib/scripted_upstream');
const { HttpConnection, requestBytes, destroyAllSockets } = require('../tests/lib/raw_http');
const { bodyXml, BoshSession } = require('../tests/lib/bosh');
const { inPool, percentile } = require('../tests/lib/pool');
const { memory, cpuSeconds, processTree, MiB } = require('../tests/lib/proc_stats');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const WORKER_COUNTS = option('workers', '100,2').split(',').map(Number);
const SESSIONS = Number(option('sessions', 200));
const REQUESTS = Number(option('requests', 4000));
const CONCURRENCY = Number(option('concurrency', 4));

const post = (port, xml) => requestBytes({ method: 'POST', path: '/http-bind', port, body: xml,
  headers: [['Content-Type', 'text/xml; charset=utf-8']] });
const micros = (ns) => Number(ns) / 1000;

async function startDaemon(workers, upstreamPort) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sb-handover-${workers}-`));
  const logFile = path.join(dir, 'switchboard.log');
  const child = startLogged(findBinary(), ['--listen', `127.0.0.1:${port}`, '--upstream', `127.0.0.1:${upstreamPort}`,
    '--workers', String(workers), '--log-level', 'debug', '--set', 'polling=0', '--set', 'inactivity=300'],
  { logFile, cwd: dir });
  await waitForPort(port, { child, what: 'switchboard', timeoutMs: 60000 });
  // Every worker listening, so the kernel spreads over all of them.
  const deadline = Date.now() + 60000;
  while ((fs.readFileSync(logFile, 'utf8').match(/listening on http/g) || []).length < workers) {
    if (Date.now() > deadline) throw new Error(`not all ${workers} workers listened`);
    await sleep(200);
  }
  return { port, dir, logFile, child };
}

/** One request on `conn`; resolves with its latency in µs from `since`. */
async function exchange(conn, bytes, since) {
  conn.write(bytes);
  const res = await conn.next({ timeoutMs: 10000 });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
  if (/type=['"]terminate/.test(res.body)) throw new Error(`terminated: ${res.body.slice(0, 200)}`);
  return micros(process.hrtime.bigint() - since);
}

async function createSessions(port, count) {
  const sessions = [];
  await inPool(Array.from({ length: count }, (_, i) => i), 4, async (i) => {
    const rid = 1000000 + i * 1000;
    const xml = bodyXml(BoshSession.creationAttrs(`handover-${i}.test`, { hold: '0', wait: '10', rid: String(rid) }));
    const conn = await HttpConnection.open(port);
    try {
      conn.write(post(port, xml));
      const res = await conn.next({ timeoutMs: 10000 });
      const sid = /sid=['"]([^'"]+)['"]/.exec(res.body);
      if (res.status !== 200 || !sid) throw new Error(`creation failed: ${res.status} ${res.body.slice(0, 200)}`);
      sessions.push({ sid: sid[1], rid });
    } finally {
      conn.close();
    }
  });
  if (sessions.length !== count) throw new Error(`only ${sessions.length} of ${count} sessions created`);
  return sessions;
}

/**
 * REQUESTS fresh connections, each with two requests of one session. Sessions are
 * split into CONCURRENCY lanes so that each session's rids stay in order.
 */
async function drive(port, sessions) {
  const first = [];   // { port, us }
  const second = [];  // µs
  let errors = 0;
  const lanes = Array.from({ length: CONCURRENCY }, (_, lane) => sessions.filter((_, i) => i % CONCURRENCY === lane));
  const perLane = Math.ceil(REQUESTS / CONCURRENCY);
  const started = process.hrtime.bigint();
  await Promise.all(lanes.map(async (lane) => {
    for (let n = 0; n < perLane; n += 1) {
      const session = lane[n % lane.length];
      const since = process.hrtime.bigint();
      let conn;
      try {
        conn = await HttpConnection.open(port);
        const connected = process.hrtime.bigint();
        session.rid += 1;
        const us = await exchange(conn, post(port, bodyXml({ rid: String(session.rid), sid: session.sid })), connected);
        first.push({ port: conn.socket.localPort, us });
        session.rid += 1;
        const again = process.hrtime.bigint();
        second.push(await exchange(conn, post(port, bodyXml({ rid: String(session.rid), sid: session.sid })), again));
      } catch (err) {
        errors += 1;
        if (errors <= 3) process.stderr.write(`request error: ${err.message}\n`);
      } finally {
        if (conn) conn.close();
      }
      void since;
    }
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { first, second, errors, seconds };
}

function handedOverPorts(logFile) {
  const ports = new Map();
  for (const match of fs.readFileSync(logFile, 'utf8').matchAll(/connection handed over to worker \d+ \(from [^ ]+ port (\d+)\)/g)) {
    ports.set(Number(match[1]), (ports.get(Number(match[1])) || 0) + 1);
  }
  return ports;
}

const fmt = (us) => (Number.isFinite(us) ? `${us.toFixed(0)} µs` : 'n/a');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : 'n/a');

async function runOne(workers, upstream) {
  const daemon = await startDaemon(workers, upstream.port);
  const result = { workers };
  try {
    await sleep(1000);  // let start-up settle before measuring idle memory
    const tree = processTree(daemon.child.pid);
    const supervisorPid = daemon.child.pid;
    const workerPids = tree.filter((p) => p !== supervisorPid);
    const idle = workerPids.map((p) => memory(p).rss).sort((a, b) => a - b);
    const idleAnon = workerPids.map((p) => memory(p).anon).sort((a, b) => a - b);
    result.workerIdleAnonMedian = idleAnon[Math.floor(idleAnon.length / 2)];
    result.supervisorRss = memory(supervisorPid).rss;
    result.supervisorAnon = memory(supervisorPid).anon;
    result.workerIdleRss = { min: idle[0], median: idle[Math.floor(idle.length / 2)], max: idle[idle.length - 1], sum: idle.reduce((a, b) => a + b, 0) };

    // Idle cost of the processes themselves (each worker's timer wheel ticks).
    const idleCpu0 = workerPids.reduce((sum, p) => sum + cpuSeconds(p), 0) + cpuSeconds(supervisorPid);
    const idleStart = process.hrtime.bigint();
    await sleep(5000);
    const idleCpu1 = workerPids.reduce((sum, p) => sum + cpuSeconds(p), 0) + cpuSeconds(supervisorPid);
    result.idleCpuShare = (idleCpu1 - idleCpu0) / (Number(process.hrtime.bigint() - idleStart) / 1e9);

    const sessions = await createSessions(daemon.port, SESSIONS);
    const cpuBefore = { supervisor: cpuSeconds(supervisorPid), workers: workerPids.reduce((s, p) => s + cpuSeconds(p), 0) };
    const run = await drive(daemon.port, sessions);
    const cpuAfter = { supervisor: cpuSeconds(supervisorPid), workers: workerPids.reduce((s, p) => s + cpuSeconds(p), 0) };
    result.supervisorRssAfter = memory(supervisorPid).rss;

    const handed = handedOverPorts(daemon.logFile);
    const clientPortUses = new Map();
    for (const { port } of run.first) clientPortUses.set(port, (clientPortUses.get(port) || 0) + 1);
    const over = [];
    const direct = [];
    let ambiguous = 0;
    for (const { port, us } of run.first) {
      if (clientPortUses.get(port) > 1) {
        ambiguous += 1;  // a client port used twice: cannot tell which was handed over
      } else if (handed.has(port)) {
        over.push(us);
      } else {
        direct.push(us);
      }
    }
    const handoverCount = [...handed.values()].reduce((a, b) => a + b, 0);
    Object.assign(result, {
      requests: run.first.length + run.second.length,
      errors: run.errors,
      seconds: run.seconds,
      handoverCount,
      handoversPerSecond: handoverCount / run.seconds,
      share: over.length / Math.max(1, over.length + direct.length),
      ambiguous,
      over: { n: over.length, p50: percentile(over, 50), p99: percentile(over, 99) },
      direct: { n: direct.length, p50: percentile(direct, 50), p99: percentile(direct, 99) },
      owned: { n: run.second.length, p50: percentile(run.second, 50), p99: percentile(run.second, 99) },
      supervisorCpuPerHandoverUs: handoverCount ? ((cpuAfter.supervisor - cpuBefore.supervisor) * 1e6) / handoverCount : NaN,
      workersCpuPerRequestUs: ((cpuAfter.workers - cpuBefore.workers) * 1e6) / Math.max(1, run.first.length + run.second.length),
    });
  } finally {
    destroyAllSockets();
    await stopProcess(daemon.child, { timeoutMs: 20000 });
    fs.rmSync(daemon.dir, { recursive: true, force: true });
  }
  return result;
}

function report(r) {
  const lines = [
    `--- ${r.workers} workers: ${r.requests} requests (${SESSIONS} sessions, concurrency ${CONCURRENCY}), ${r.errors} errors, ${r.seconds.toFixed(1)} s`,
    `  hand-overs: ${r.handoverCount} (${(r.share * 100).toFixed(1)}% of first requests), ${r.handoversPerSecond.toFixed(0)}/s; ` +
      `supervisor CPU ${r.supervisorCpuPerHandoverUs.toFixed(1)} µs per hand-over; workers' CPU ${r.workersCpuPerRequestUs.toFixed(1)} µs per request`,
    `  first request, handed over   (n=${r.over.n}): p50 ${fmt(r.over.p50)}, p99 ${fmt(r.over.p99)}`,
    `  first request, not handed over (n=${r.direct.n}): p50 ${fmt(r.direct.p50)}, p99 ${fmt(r.direct.p99)}`,
    `  second request, at the owner (n=${r.owned.n}): p50 ${fmt(r.owned.p50)}, p99 ${fmt(r.owned.p99)}`,
    `  handed over / not handed over: p50 x${ratio(r.over.p50, r.direct.p50)}, p99 x${ratio(r.over.p99, r.direct.p99)}; ` +
      `handed over / at the owner: p50 x${ratio(r.over.p50, r.owned.p50)}, p99 x${ratio(r.over.p99, r.owned.p99)}` +
      (r.ambiguous ? ` (${r.ambiguous} requests on a reused client port left out)` : ''),
    `  supervisor RSS ${MiB(r.supervisorRss)} idle (${MiB(r.supervisorAnon)} anonymous), ${MiB(r.supervisorRssAfter)} after; ` +
      `idle CPU of all processes ${(r.idleCpuShare * 100).toFixed(2)}% of a core; ` +
      `worker idle RSS min ${MiB(r.workerIdleRss.min)}, median ${MiB(r.workerIdleRss.median)} ` +
      `(${MiB(r.workerIdleAnonMedian)} anonymous), max ${MiB(r.workerIdleRss.max)}, all ${MiB(r.workerIdleRss.sum)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main() {
  const upstream = await new ScriptedUpstream().start();
  const results = [];
  try {
    for (const workers of WORKER_COUNTS) {
      const r = await runOne(workers, upstream);
      report(r);
      results.push(r);
    }
  } finally {
    await upstream.stop();
  }
  if (results.length >= 2) {
    const [a, b] = results;
    process.stdout.write(`--- ${a.workers} vs ${b.workers} workers: hand-overs/s x${ratio(a.handoversPerSecond, b.handoversPerSecond)}, ` +
      `handed-over p50 x${ratio(a.over.p50, b.over.p50)}, p99 x${ratio(a.over.p99, b.over.p99)}, ` +
      `supervisor CPU per hand-over x${ratio(a.supervisorCpuPerHandoverUs, b.supervisorCpuPerHandoverUs)}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
