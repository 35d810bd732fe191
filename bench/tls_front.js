'use strict';
// HTTPS front: switchboard's tls_listen against nginx (Debian nginx-light) in the
// same run, same certificate (ECDSA P-256), same TLS version and cipher, both one
// process on one core. Run by hand:
//
//   node bench/tls_front.js [--bin build/src/switchboard] [--idle 2000] [--seconds 10]
//                           [--clients 3] [--tls 1.3|1.2] [--rounds 3]
//
// 1. Memory per idle TLS connection: N clients (Node tls.connect, ALPN http/1.1)
//    complete their handshake and stay idle; the server's RSS and PSS before and
//    after, divided by N. User space only (the kernel's socket memory is the same
//    for both and not in RSS).
// 2. Full handshakes per second per core: `openssl s_time -new` (no resumption) in
//    several processes for a fixed time; handshakes counted by the clients, divided
//    by the CPU seconds the server process used meanwhile (/proc). Dividing by the
//    server's own CPU time makes the figure per core even on a shared machine; the
//    server's CPU use over wall time is printed too: near 1.0 means the server, not
//    the clients, was the limit. The two servers take turns, `rounds` times, and
//    the medians are compared: on a shared machine one round says little.
//
// Both servers are private: a free loopback port each, nginx with its own prefix
// and config in a temp dir, stopped by PID.

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const tls = require('node:tls');
const { memory, cpuSeconds } = require('../tests/lib/proc_stats');

function parseArgs(argv) {
  const opts = { bin: path.resolve(__dirname, '..', 'build', 'src', 'switchboard'), idle: 2000, seconds: 10, clients: 3, tls: '1.3', rounds: 3 };
  for (let i = 2; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in opts)) throw new Error(`unknown option ${argv[i]}`);
    opts[key] = key === 'bin' || key === 'tls' ? argv[++i] : Number(argv[++i]);
  }
  if (opts.tls !== '1.2' && opts.tls !== '1.3') throw new Error('--tls is 1.2 or 1.3');
  return opts;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
    server.on('error', reject);
  });
}

async function waitForPort(port, child, what) {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${what} never listened on ${port}`);
}

/** PSS of `pid` in bytes (smaps_rollup). */
function pss(pid) {
  const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return Number(/^Pss:\s+(\d+) kB/m.exec(text)[1]) * 1024;
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

async function startSwitchboard(opts, dir, cert, key) {
  const port = await freePort();
  const plain = await freePort();
  const log = fs.openSync(path.join(dir, 'switchboard.log'), 'w');
  const child = spawn(opts.bin, ['--listen', `127.0.0.1:${plain}`, '--upstream', '127.0.0.1:1',
    '--set', `tls_listen=127.0.0.1:${port}`, '--set', `tls_cert_file=${cert}`, '--set', `tls_key_file=${key}`,
    '--set', 'http_header_timeout=300', '--set', 'log_level=warn'], { stdio: ['ignore', log, log] });
  await waitForPort(port, child, 'switchboard');
  return { name: 'switchboard', child, pid: child.pid, port };
}

async function startNginx(dir, cert, key) {
  const port = await freePort();
  const prefix = path.join(dir, 'nginx');
  fs.mkdirSync(path.join(prefix, 'logs'), { recursive: true });
  // One process (master_process off), like one switchboard worker; the same TLS
  // policy: 1.2 and 1.3, tickets on, no session cache.
  fs.writeFileSync(path.join(prefix, 'nginx.conf'), `
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 20000;
error_log ${prefix}/logs/error.log warn;
pid ${prefix}/logs/nginx.pid;
events { worker_connections 19000; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  client_header_timeout 300s;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    location / { return 200 "ok\\n"; }
  }
}
`);
  const log = fs.openSync(path.join(prefix, 'logs', 'stderr.log'), 'w');
  const child = spawn('nginx', ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')], { stdio: ['ignore', log, log] });
  await waitForPort(port, child, 'nginx');
  return { name: 'nginx', child, pid: child.pid, port };
}

function tlsOptions(opts, port) {
  const o = { host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], session: undefined };
  if (opts.tls === '1.2') {
    Object.assign(o, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
  } else {
    Object.assign(o, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256' });
  }
  return o;
}

/** Opens `n` TLS connections (handshake completed), 50 at a time; returns them. */
async function openIdle(opts, port, n) {
  const sockets = [];
  const protocols = new Set();
  for (let i = 0; i < n; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 50); j++) {
      batch.push(new Promise((resolve, reject) => {
        const s = tls.connect(tlsOptions(opts, port), () => {
          protocols.add(`${s.getProtocol()} ${s.getCipher().name} ALPN ${s.alpnProtocol}`);
          resolve(s);
        });
        s.on('error', reject);
      }));
    }
    sockets.push(...await Promise.all(batch));
  }
  return { sockets, protocols: [...protocols] };
}

async function idleMemory(opts, server) {
  await sleep(500);
  const before = { rss: memory(server.pid).rss, pss: pss(server.pid) };
  const { sockets, protocols } = await openIdle(opts, server.port, opts.idle);
  await sleep(2000);
  const after = { rss: memory(server.pid).rss, pss: pss(server.pid) };
  for (const s of sockets) s.destroy();
  await sleep(1000);
  return {
    rss: (after.rss - before.rss) / opts.idle,
    pss: (after.pss - before.pss) / opts.idle,
    protocols,
  };
}

/** s_time in `clients` processes for `seconds`: { handshakes, cpu, wall }. */
async function handshakeRate(opts, server) {
  const version = opts.tls === '1.2' ? ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256']
    : ['-tls1_3', '-ciphersuites', 'TLS_AES_128_GCM_SHA256'];
  const cpu0 = cpuSeconds(server.pid);
  const t0 = Date.now();
  const runs = Array.from({ length: opts.clients }, () => new Promise((resolve) => {
    const child = spawn('openssl', ['s_time', '-connect', `127.0.0.1:${server.port}`, '-new', '-time', String(opts.seconds), ...version],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', () => {
      const m = /(\d+) connections in [\d.]+s/.exec(out);
      resolve(m ? Number(m[1]) : 0);
    });
  }));
  const counts = await Promise.all(runs);
  const wall = (Date.now() - t0) / 1000;
  const cpu = cpuSeconds(server.pid) - cpu0;
  const handshakes = counts.reduce((a, b) => a + b, 0);
  return { handshakes, cpu, wall, perCore: handshakes / cpu, perWall: handshakes / wall };
}

async function main() {
  const opts = parseArgs(process.argv);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-tls-front-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'pipe' });
  const out = (line) => process.stdout.write(`${line}\n`);
  out(`date ${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} cores, ${execFileSync('openssl', ['version']).toString().trim()}`);
  out(`TLS ${opts.tls}, ECDSA P-256 certificate, ${opts.idle} idle connections, s_time ${opts.clients} processes x ${opts.seconds} s`);
  const servers = [];
  try {
    servers.push(await startSwitchboard(opts, dir, cert, key));
    servers.push(await startNginx(dir, cert, key));
    const results = {};
    for (const server of servers) {
      const idle = await idleMemory(opts, server);
      results[server.name] = { idle, rates: [] };
      out(`${server.name.padEnd(11)} idle TLS connection: RSS ${Math.round(idle.rss)} B, PSS ${Math.round(idle.pss)} B (${idle.protocols.join('; ')})`);
    }
    for (let round = 1; round <= opts.rounds; round++) {
      for (const server of servers) {
        const rate = await handshakeRate(opts, server);
        results[server.name].rates.push(rate.perCore);
        out(`round ${round} ${server.name.padEnd(11)} full handshakes: ${rate.handshakes} in ${rate.wall.toFixed(1)} s, server CPU ${rate.cpu.toFixed(2)} s ` +
          `(${(rate.cpu / rate.wall).toFixed(2)} of a core): ${Math.round(rate.perCore)}/s per core, ${Math.round(rate.perWall)}/s wall`);
      }
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const sb = results.switchboard;
    const ng = results.nginx;
    out(`median full handshakes per core: switchboard ${Math.round(median(sb.rates))}/s, nginx ${Math.round(median(ng.rates))}/s`);
    out(`ratio switchboard/nginx: handshakes per core ${(median(sb.rates) / median(ng.rates)).toFixed(2)}, ` +
      `idle RSS per connection ${(sb.idle.rss / ng.idle.rss).toFixed(2)}, PSS ${(sb.idle.pss / ng.idle.pss).toFixed(2)}`);
  } finally {
    for (const server of servers) await stopChild(server.child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
