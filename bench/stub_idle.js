#!/usr/bin/env node
'use strict';
// switchboard-stub (the scale runs' XMPP server, a test tool): user-space memory
// per idle logged-in c2s session, and message routing throughput inside one
// worker process and across two.
//
//   node bench/stub_idle.js [--sessions 5000,10000] [--procs 1,2] [--settle 2]
//       [--pairs 50] [--messages 200000] [--window 200] [--route-procs 2] [--timeout 300]
//
// Memory, for each --procs P and --sessions N: start a fresh stub (P workers,
// --log-level warn), read the RSS of all its processes (parent + workers), log N
// plain c2s sessions in (SASL PLAIN u1..uN, restart, bind, session, presence: the
// whole login pipelined in one write, 200 at a time, from source addresses
// 127.0.1.1-127.0.1.250 so ports never run short), wait --settle seconds, read
// the RSS again: bytes per session = (RSS after - RSS before) / N. That includes
// everything the stub keeps per session: the session object, its TcpStream (libuv
// handle), its JID, the routing table and directory entries, allocator slack.
// Kernel socket memory is not in RSS. Printed against the 1 KB target.
//
// Throughput, with --route-procs workers (default 2): 4 x --pairs sessions,
// paired by the worker that holds them (the stream id names it), then --messages
// chat messages sent from one side of each pair to the other, at most --window
// unanswered per pair: first pairs inside one worker, then pairs across workers
// (worker w to worker w+1; with more than 2 workers most of those messages take
// two hops, through the bare JID's directory worker). Printed: messages/s
// of wall time, and messages per CPU-second of the stub (its processes' user +
// system time over the phase), which is the per-core figure and does not depend
// on how fast this Node client is; the cross-worker figure is also printed as a
// ratio of the same-worker one measured in the same run.
//
// Everything runs on loopback, bounded by --timeout seconds; the stub is stopped
// by PID at the end, also on failure or Ctrl-C.

const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { inPool } = require('../tests/lib/pool');
const { snapshot, MiB } = require('../tests/lib/proc_stats');

const STUB_BIN = process.env.STUB_BIN ||
  path.join(__dirname, '..', 'build', 'src', 'tools', 'stub', 'switchboard-stub');
const DOMAIN = 'stub.bench';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function parseArgs(argv) {
  const opts = { sessions: [5000, 10000], procs: [1, 2], settle: 2, pairs: 50, messages: 200000,
    window: 200, 'route-procs': 2, timeout: 300 };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (!argv[i].startsWith('--') || !(key in opts)) throw new Error(`unknown argument ${argv[i]}`);
    const raw = argv[++i];
    const values = String(raw).split(',').map(Number);
    if (values.some((v) => !Number.isInteger(v) || v < 0)) throw new Error(`--${key} needs whole numbers`);
    opts[key] = Array.isArray(opts[key]) ? values : values[0];
  }
  return opts;
}

const running = new Set();

function startStub(procs) {
  const proc = spawn(STUB_BIN, ['--listen', '127.0.0.1:0', '--procs', String(procs), '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  running.add(proc);
  proc.on('exit', () => running.delete(proc));
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on 127\.0\.0\.1:(\d+)\n/.exec(out);
      if (match) resolve({ proc, port: Number(match[1]) });
    });
    proc.on('exit', (code) => reject(new Error(`stub exited with ${code}`)));
  });
}

async function stopStub(stub) {
  if (stub.proc.exitCode !== null || stub.proc.signalCode !== null) return;
  const exited = new Promise((resolve) => stub.proc.once('exit', resolve));
  stub.proc.kill('SIGTERM');
  await exited;
}

const open = (domain) => `<stream:stream to='${domain}' xmlns='jabber:client' ` +
  `xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;

// One c2s session, logged in with a single pipelined write (the stub reads the
// bytes after <success/> as the restarted stream). Resolves with the socket once
// the session iq is answered; `worker` is the worker that holds it.
function login(port, n) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: `127.0.1.${1 + (n % 250)}` });
    socket.setEncoding('utf8');
    let text = '';
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`login u${n} timed out`)); }, 30000);
    socket.on('error', (err) => { clearTimeout(timer); reject(err); });
    const onData = (chunk) => {
      text += chunk;
      if (!text.includes("id='s'")) return;
      clearTimeout(timer);
      socket.off('data', onData);
      const ids = [...text.matchAll(/<stream:stream [^>]*id='p(\d+)-/g)];
      const jid = /<jid>([^<]*)<\/jid>/.exec(text);
      resolve({ socket, n, jid: jid && jid[1], worker: Number(ids[ids.length - 1][1]) });
    };
    socket.on('data', onData);
    const plain = Buffer.from(`\0u${n}\0p${n}`).toString('base64');
    socket.write(open(DOMAIN) +
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>` + open(DOMAIN) +
      "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>bench</resource></bind></iq>" +
      "<iq type='set' id='s'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq><presence/>");
  });
}

async function loginMany(port, first, count) {
  const sessions = [];
  const numbers = Array.from({ length: count }, (_, i) => first + i);
  const errors = await inPool(numbers, 200, async (n) => { sessions.push(await login(port, n)); });
  if (errors.length) throw new Error(`${errors.length} logins failed, first: ${errors[0].message}`);
  return sessions;
}

async function measureMemory(procs, count, opts) {
  const stub = await startStub(procs);
  try {
    await sleep(300);
    const before = snapshot(stub.proc.pid);
    const started = Date.now();
    const sessions = await loginMany(stub.port, 1, count);
    const loginSeconds = (Date.now() - started) / 1000;
    await sleep(opts.settle * 1000);
    const after = snapshot(stub.proc.pid);
    const perSession = (after.rss - before.rss) / count;
    console.log(`procs ${procs}, ${count} sessions: stub RSS ${MiB(before.rss)} -> ${MiB(after.rss)} ` +
      `(${after.processes} processes, ${after.fds} fds): ${perSession.toFixed(0)} B per idle session ` +
      `= ${(perSession / 1024).toFixed(2)} of the 1 KB target; logins ${(count / loginSeconds).toFixed(0)}/s`);
    for (const s of sessions) s.socket.destroy();
    return perSession;
  } finally {
    await stopStub(stub);
  }
}

// Sends opts.messages messages over `pairs` ([sender, receiver]), a window each.
async function pump(stub, pairs, opts, label) {
  const perPair = Math.ceil(opts.messages / pairs.length);
  const body = 'x'.repeat(100);
  const cpuBefore = snapshot(stub.proc.pid).cpu;
  const started = process.hrtime.bigint();
  await Promise.all(pairs.map(([from, to]) => new Promise((resolve) => {
    let sent = 0;
    let received = 0;
    let carry = '';
    const stanza = `<message to='${to.jid}' type='chat'><body>${body}</body></message>`;
    const fill = () => {
      let batch = '';
      while (sent < perPair && sent - received < opts.window) { batch += stanza; sent++; }
      if (batch) from.socket.write(batch);
    };
    const onData = (chunk) => {
      const text = carry + chunk;
      let at = 0;
      while ((at = text.indexOf('</message>', at)) !== -1) { received++; at += 10; }
      carry = text.slice(-9);
      if (received >= perPair) { to.socket.off('data', onData); resolve(); } else fill();
    };
    to.socket.on('data', onData);
    fill();
  })));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = snapshot(stub.proc.pid).cpu - cpuBefore;
  const total = perPair * pairs.length;
  const perCpu = total / cpu;
  console.log(`${label}: ${total} messages in ${seconds.toFixed(2)} s = ${(total / seconds).toFixed(0)}/s wall; ` +
    `stub CPU ${cpu.toFixed(2)} s = ${perCpu.toFixed(0)} messages per stub CPU-second`);
  return perCpu;
}

async function measureThroughput(opts) {
  const procs = Math.max(2, opts['route-procs']);
  const stub = await startStub(procs);
  try {
    const sessions = await loginMany(stub.port, 1, opts.pairs * 4);
    const byWorker = Array.from({ length: procs }, (_, w) => sessions.filter((s) => s.worker === w));
    const same = [];
    const cross = [];
    for (let i = 0; same.length < opts.pairs && byWorker.some((l) => l.length >= 2 * (i + 1)); i++) {
      for (const list of byWorker) {
        if (list.length >= 2 * (i + 1) && same.length < opts.pairs) same.push([list[2 * i], list[2 * i + 1]]);
      }
    }
    for (let i = 0; cross.length < opts.pairs && i < sessions.length; i++) {
      const w = i % procs;
      const k = Math.floor(i / procs);
      const a = byWorker[w][k];
      const b = byWorker[(w + 1) % procs][k + 1]; // k + 1: no session is in two pairs
      if (a && b && !cross.some(([x, y]) => x === a || y === b || x === b || y === a)) cross.push([a, b]);
    }
    console.log(`throughput, ${procs} workers holding ${byWorker.map((l) => l.length).join(', ')} sessions: ` +
      `${same.length} same-worker pairs, ${cross.length} cross-worker pairs, 100-byte bodies`);
    await pump(stub, same, { ...opts, messages: Math.ceil(opts.messages / 10) }, 'warm-up');
    const inside = await pump(stub, same, opts, 'same worker  ');
    const across = await pump(stub, cross, opts, 'across workers');
    console.log(`across / same worker, per stub CPU-second: ${(across / inside).toFixed(2)}`);
    for (const s of sessions) s.socket.destroy();
  } finally {
    await stopStub(stub);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const deadline = setTimeout(() => { console.error('timed out'); cleanup(); process.exit(1); }, opts.timeout * 1000);
  deadline.unref(); // a failed run must not wait for it
  // --sessions 0 or --procs 0 skips the memory part, --pairs 0 the throughput part.
  for (const procs of opts.procs.filter((p) => p > 0)) {
    for (const count of opts.sessions.filter((n) => n > 0)) await measureMemory(procs, count, opts);
  }
  if (opts.pairs > 0 && opts.messages > 0) await measureThroughput(opts);
}

function cleanup() { for (const proc of running) proc.kill('SIGKILL'); }
process.on('SIGINT', () => { cleanup(); process.exit(130); });
main().catch((err) => { console.error(err); cleanup(); process.exitCode = 1; });
