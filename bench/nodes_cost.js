#!/usr/bin/env node
'use strict';
// What the balancer tier costs beside the nodes behind it (docs/nodes.md,
// "Sizing"): HAProxy running deploy/haproxy/haproxy.cfg as shipped in front of
// three switchboard nodes, as tests/nodes starts them (tests/lib/haproxy_nodes.js),
// with switchboard-stub behind as the XMPP server (bench/lib/scale_stack.js).
//
//   1. baseline: the stack up, no session; its own CPU over --base-seconds
//      (HAProxy's health and agent checks, the nodes' answers and timers), which
//      the CPU per request below leaves out;
//   2. idle: --sessions BOSH sessions logged in through HAProxy by
//      switchboard-soak (hold 1, wait 60: one held request each, a re-poll a
//      minute), measured after --settle s, then over --idle-seconds (more than
//      the 60 s wait, so that every session re-polls in the window);
//   3. chatting: a second soak of --chat-sessions more sessions sending
//      --msg-rate messages/s in all, measured over --chat-seconds once they are in.
//
// It prints, for HAProxy (its process and children) and for the three nodes
// summed (each node's processes): RSS and PSS per held session (idle minus
// baseline, over the sessions online), descriptors per session, and CPU per
// HTTP request (the frontend's request counter, from HAProxy's stats socket,
// over the same window, less the baseline's CPU for as long) in both phases,
// and the ratio HAProxy / nodes. Also the
// kernel's share from /proc/net/sockstat and slab (the whole box: every tier's
// sockets are on it).
//
//   node bench/nodes_cost.js [--base-seconds 10] [--sessions 6000] [--rate 300] [--settle 10]
//        [--idle-seconds 65] [--chat-sessions 1000] [--msg-rate 200] [--chat-seconds 30]
//        [--bufsize B]
//
// --bufsize adds `tune.bufsize B` to HAProxy's `global` (its buffer per held
// request, 16384 by default): to see what a smaller one saves. Without it,
// the configuration is the shipped one.
//
// Every process here lives under the 20,000-descriptor limit of this box: HAProxy
// holds two descriptors per held session (the client's connection and the
// node's), four while a session has its second request out, so the sessions
// (idle + chatting) stay under about 8,000. Needs HAProxy, the Release build's
// switchboard, switchboard-stub and switchboard-soak (SWITCHBOARD_BIN, STUB_BIN,
// SOAK_BIN to override). Everything is stopped by PID at the end.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { freePort } = require('../tests/lib/ports');
const { sleep } = require('../tests/lib/proc');
const { snapshot } = require('../tests/lib/proc_stats');
const { NodesStack } = require('../tests/lib/haproxy_nodes');
const { STUB, start, stop } = require('./lib/scale_stack');
const { startSoak, track, stopAll, stopOnTimeoutOrSignal } = require('./lib/soak_run');

const FD_LIMIT = 20000;

function parseArgs(argv) {
  const args = { bufsize: 0, baseSeconds: 10, sessions: 6000, rate: 300, settle: 10, idleSeconds: 65, chatSessions: 1000, msgRate: 200, chatSeconds: 30 };
  const flags = { '--bufsize': 'bufsize', '--base-seconds': 'baseSeconds', '--sessions': 'sessions', '--rate': 'rate', '--settle': 'settle', '--idle-seconds': 'idleSeconds',
    '--chat-sessions': 'chatSessions', '--msg-rate': 'msgRate', '--chat-seconds': 'chatSeconds' };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (!flags[flag] || !Number.isFinite(Number(value))) throw new Error(`unknown option or bad value: ${flag} ${value ?? ''}`);
    args[flags[flag]] = Number(value);
  }
  // Two descriptors per idle session, four per chatting one, and room for checks.
  if (2 * args.sessions + 4 * args.chatSessions > FD_LIMIT - 1000) {
    throw new Error(`HAProxy would need ${2 * args.sessions + 4 * args.chatSessions} descriptors; the limit is ${FD_LIMIT}`);
  }
  return args;
}

const log = (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

/** TCP sockets and their buffer pages (/proc/net/sockstat), kernel slab (/proc/meminfo). */
function kernel() {
  const sock = /TCP: inuse (\d+) orphan \d+ tw \d+ alloc \d+ mem (\d+)/.exec(fs.readFileSync('/proc/net/sockstat', 'utf8'));
  const mi = fs.readFileSync('/proc/meminfo', 'utf8');
  const kib = (f) => Number(new RegExp(`^${f}:\\s+(\\d+) kB`, 'm').exec(mi)[1]) * 1024;
  return { sockets: Number(sock[1]), bufferBytes: Number(sock[2]) * 4096, slab: kib('SUnreclaim') + kib('SReclaimable') };
}

/** The frontend's HTTP requests so far (`req_tot` of `show stat`). */
async function requests(stack) {
  const lines = (await stack.command('show stat')).split('\n');
  const head = lines[0].replace(/^# /, '').split(',');
  const front = lines.find((l) => l.startsWith('xmpp_web,FRONTEND,')).split(',');
  return Number(front[head.indexOf('req_tot')]);
}

/** Memory, fds and CPU of HAProxy and of the nodes summed, the request counter and the kernel. */
async function measure(stack) {
  const nodes = { rss: 0, pss: 0, fds: 0, cpu: 0, processes: 0 };
  for (const node of stack.nodes) {
    const s = snapshot(node.child.pid);
    for (const key of Object.keys(nodes)) nodes[key] += s[key];
  }
  return { haproxy: snapshot(stack.haproxy.pid), nodes, requests: await requests(stack), kernel: kernel(), at: Date.now() };
}

const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main() {
  const args = parseArgs(process.argv.slice(2));
  stopOnTimeoutOrSignal(600, log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-nodes-cost-'));
  track({ stop: () => fs.rmSync(dir, { recursive: true, force: true }) });  // also on Ctrl-C
  try {
    const stubPort = await freePort();
    const stub = await start(STUB, ['--listen', `127.0.0.1:${stubPort}`, '--procs', '1', '--log-level', 'warn'],
      { ready: /listening on/, logFile: path.join(dir, 'stub.log') });
    track({ stop: () => stop(stub) });
    // inactivity above the soak's wait (60 s); the nodes log only warnings.
    const node = { log_level: 'warn', inactivity: 90 };
    const stack = new NodesStack({ upstreamPort: stubPort, settings: { n1: node, n2: node, n3: node },
      haproxyGlobal: args.bufsize ? [`tune.bufsize ${args.bufsize}`] : [] });
    stack.front = true;
    track(stack);
    await stack.start();
    log(`HAProxy ${stack.haproxy.pid} at ${stack.boshUrl}, nodes ${stack.nodes.map((n) => n.child.pid).join(' ')}, stub ${stub.pid}`);
    await sleep(3000);
    const base = await measure(stack);
    await sleep(args.baseSeconds * 1000);
    const baseEnd = await measure(stack);
    // CPU seconds per second the stack spends with no session at all.
    const fixed = (tier) => (baseEnd[tier].cpu - base[tier].cpu) / ((baseEnd.at - base.at) / 1000);

    const idleSoak = startSoak(['--url', stack.boshUrl, '--sessions', String(args.sessions), '--rate', String(args.rate),
      '--duration', '3600', '--hold', '1', '--wait', '60', '--user-pattern', 'u%d', '--password', 'p%d'], args.sessions);
    await idleSoak.up;
    const online = idleSoak.online();
    log(`idle: ${online} sessions online (${idleSoak.errors()} errors); settling ${args.settle} s`);
    await sleep(args.settle * 1000);
    const idle = await measure(stack);
    await sleep(args.idleSeconds * 1000);
    const idleEnd = await measure(stack);

    const chatSoak = startSoak(['--url', stack.boshUrl, '--sessions', String(args.chatSessions), '--rate', String(args.rate),
      '--first-user', String(args.sessions + 1), '--duration', '3600', '--msg-rate', String(args.msgRate),
      '--hold', '1', '--wait', '60', '--user-pattern', 'u%d', '--password', 'p%d'], args.chatSessions);
    await chatSoak.up;
    log(`chatting: ${chatSoak.online()} more sessions online (${chatSoak.errors()} errors), ${args.msgRate} msg/s; ` +
      `measuring ${args.chatSeconds} s`);
    await sleep(2000);
    const chat = await measure(stack);
    await sleep(args.chatSeconds * 1000);
    const chatEnd = await measure(stack);
    const errors = idleSoak.errors() + chatSoak.errors();

    const perSession = (tier, key) => (idle[tier][key] - base[tier][key]) / online;
    const cpuPerRequest = (a, b, tier) => {
      if (b.requests <= a.requests) return NaN;
      const cpu = b[tier].cpu - a[tier].cpu - fixed(tier) * ((b.at - a.at) / 1000);
      return (cpu / (b.requests - a.requests)) * 1e6;
    };
    const idleRequests = idleEnd.requests - idle.requests;
    const chatRequests = chatEnd.requests - chat.requests;
    const row = (what, h, n, digits = 0, unit = '') => {
      const ratio = n && Number.isFinite(h / n) ? fmt(h / n, 2) : '-';
      return `| ${what} | ${fmt(h, digits)}${unit} | ${fmt(n, digits)}${unit} | ${ratio} |`;
    };
    const sockets = idle.kernel.sockets - base.kernel.sockets;
    const lines = [
      '',
      `nodes_cost: ${online} idle BOSH sessions through HAProxy (3 nodes, stub behind${args.bufsize ? `, tune.bufsize ${args.bufsize}` : ''}), then ${args.chatSessions} chatting at ${args.msgRate} msg/s; soak errors ${errors}`,
      '',
      '| per held session, idle | HAProxy | 3 nodes summed | HAProxy / nodes |',
      '| --- | --- | --- | --- |',
      row('RSS', perSession('haproxy', 'rss'), perSession('nodes', 'rss'), 0, ' B'),
      row('PSS', perSession('haproxy', 'pss'), perSession('nodes', 'pss'), 0, ' B'),
      row('descriptors', perSession('haproxy', 'fds'), perSession('nodes', 'fds'), 2),
      row('CPU with no session (cores: checks, timers)', fixed('haproxy'), fixed('nodes'), 3),
      row('CPU while idle (cores)', (idleEnd.haproxy.cpu - idle.haproxy.cpu) / args.idleSeconds,
        (idleEnd.nodes.cpu - idle.nodes.cpu) / args.idleSeconds, 3),
      row(`CPU per request above that, idle re-polls (${fmt(idleRequests)} requests in ${args.idleSeconds} s)`,
        cpuPerRequest(idle, idleEnd, 'haproxy'), cpuPerRequest(idle, idleEnd, 'nodes'), 1, ' µs'),
      row(`CPU per request above that, chatting (${fmt(chatRequests)} requests in ${args.chatSeconds} s, ${fmt(chatRequests / args.chatSeconds)}/s)`,
        cpuPerRequest(chat, chatEnd, 'haproxy'), cpuPerRequest(chat, chatEnd, 'nodes'), 1, ' µs'),
      row('CPU while chatting (cores)', (chatEnd.haproxy.cpu - chat.haproxy.cpu) / args.chatSeconds,
        (chatEnd.nodes.cpu - chat.nodes.cpu) / args.chatSeconds, 3),
      row('processes', idle.haproxy.processes, idle.nodes.processes),
      '',
      `HAProxy at ${online} sessions: RSS ${fmt(idle.haproxy.rss / 1048576, 1)} MiB (baseline ${fmt(base.haproxy.rss / 1048576, 1)}), ` +
        `${idle.haproxy.fds} fds; the nodes: RSS ${fmt(idle.nodes.rss / 1048576, 1)} MiB (baseline ${fmt(base.nodes.rss / 1048576, 1)}), ${idle.nodes.fds} fds`,
      `kernel, whole box: ${fmt(sockets)} TCP sockets more (${fmt(sockets / online, 2)} a session: soak, HAProxy x2, node x2, stub), ` +
        `slab ${fmt((idle.kernel.slab - base.kernel.slab) / online)} B a session, ${fmt((idle.kernel.slab - base.kernel.slab) / sockets)} B a socket; ` +
        `socket buffers ${fmt(idle.kernel.bufferBytes / 1048576, 1)} MiB idle, ${fmt(chatEnd.kernel.bufferBytes / 1048576, 1)} MiB chatting`,
    ];
    console.log(lines.join('\n'));
  } finally {
    await stopAll();
  }
}

main().then(() => process.exit(0), async (err) => {
  console.error(err.stack || err.message);
  await stopAll();
  process.exit(1);
});
