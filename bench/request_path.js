'use strict';
// Switchboard's request path against the floor: a bare libuv + llhttp responder
// (bench/bare_responder.cpp) answering every request with a fixed body of the size
// of Switchboard's answer in case (a). Requests per CPU-second of the server
// ("requests per core"), for the bare responder and for three Switchboard cases:
//   (a) repeat   a session's last rid sent again and again, answered from the
//                response cache;
//   (b) pair     a held empty poll (hold=1) released by a message another session
//                sends it: each round is that poll plus the message request of the
//                sender (hold=0), so the figure is of the two together; the poll
//                alone is derived with (c)'s cost;
//   (c) message  sessions with hold=0, each request a new rid carrying a <message/>
//                to the other session of its pair, forwarded upstream.
// The server under test runs alone on core 0 (taskset -c 0); the client
// (bench_request_load, one thread, epoll) and switchboard-stub (the upstream, one
// process) share core 1, and their CPU is printed to show they were not the limit.
// Rounds alternate the order of the cases; figures are medians over the rounds,
// ratios are taken within each round.
//
//   node bench/request_path.js [--rounds 5] [--seconds 5] [--connections 32] [--only a,b,c] [--syscalls]
//
// Binaries: SWITCHBOARD_BIN (else build/src/switchboard), STUB_BIN (else
// build/src/tools/stub/switchboard-stub), build/bench/bench_bare_responder and
// build/bench/bench_request_load (BENCH_DIR to use another build's bench/).
// Switchboard runs with --workers 1 and --set max_logins_in_progress=0 (logins
// unpaced), polling=0 (the logins of hold=0 sessions poll with empty requests,
// which XEP-0124 §12 limits to one per `polling` seconds) and inactivity=3600.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile, spawn } = require('node:child_process');
const { freePort } = require('../tests/lib/ports');
const { waitForPort } = require('../tests/lib/proc');
const { cpuSeconds, processTree } = require('../tests/lib/proc_stats');
const { LightBoshSession } = require('../tests/lib/bosh_light_client');
const { start, stop, SWITCHBOARD, STUB } = require('./lib/scale_stack');

const repo = path.resolve(__dirname, '..');
const BENCH_DIR = process.env.BENCH_DIR || path.join(repo, 'build', 'bench');
const BARE = path.join(BENCH_DIR, 'bench_bare_responder');
const LOAD = path.join(BENCH_DIR, 'bench_request_load');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const ROUNDS = option('rounds', 5);
const SECONDS = option('seconds', 5);
const CONNECTIONS = option('connections', 32);
// --syscalls: one more run per case under `perf stat`, for the server's system calls per request.
const SYSCALLS = process.argv.includes('--syscalls');
// --only a,b: the bare responder and these cases (say, to profile one of them).
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(',') : null;

// The stub is a supervisor and its worker process: count them all.
const treeCpu = (pid) => processTree(pid).reduce((sum, p) => {
  try { return sum + cpuSeconds(p); } catch { return sum; }
}, 0);

// The server's user and system seconds (utime, stime of /proc/PID/stat; 100 ticks a second).
function userSystem(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function runLoad(port, mode, file, seconds) {
  return new Promise((resolve, reject) => {
    execFile('taskset', ['-c', '1', LOAD, '--connect', `127.0.0.1:${port}`, '--mode', mode,
      '--sessions', file, '--seconds', String(seconds)], { timeout: (seconds + 30) * 1000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`bench_request_load ${mode}: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}

async function login(url, i, prefix, { hold, wait }) {
  const s = new LightBoshSession(url, { hold, wait });
  await s.login(`${prefix}${i}`, 'secret');
  return s;
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'request-path-'));
  const children = [];
  const cleanup = async () => {
    for (const child of children.reverse()) await stop(child);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => { cleanup().then(() => process.exit(130)); });
  try {
    const stubPort = await freePort();
    const sbPort = await freePort();
    const stub = await start('taskset', ['-c', '1', STUB, '--listen', `127.0.0.1:${stubPort}`, '--log-level', 'warn'],
      { ready: /listening on/, logFile: path.join(dir, 'stub.log') });
    children.push(stub);
    const sb = await start('taskset', ['-c', '0', SWITCHBOARD, '--listen', `127.0.0.1:${sbPort}`,
      '--upstream', `127.0.0.1:${stubPort}`, '--workers', '1', '--log-level', 'warn',
      '--set', 'max_logins_in_progress=0', '--set', 'polling=0', '--set', 'inactivity=3600'],
    { ready: null, logFile: path.join(dir, 'switchboard.log') });
    children.push(sb);
    await waitForPort(sbPort);
    const url = `http://127.0.0.1:${sbPort}/http-bind`;

    // (a): sessions whose last request is an empty one, answered empty after wait=1.
    const n = CONNECTIONS;
    const repeatSessions = await Promise.all(Array.from({ length: n }, (_, i) => login(url, i, 'a', { hold: 1, wait: 1 })));
    const cached = await Promise.all(repeatSessions.map((s) => s.post({})));
    const repeatFile = path.join(dir, 'repeat.txt');
    fs.writeFileSync(repeatFile, repeatSessions.map((s) => `${s.sid} ${s.rid - 1}\n`).join(''));
    const bodyBytes = Buffer.byteLength(cached[0]);
    // (c): pairs of hold=0 sessions writing to each other.
    const messageSessions = await Promise.all(Array.from({ length: n }, (_, i) => login(url, i, 'c', { hold: 0, wait: 60 })));
    const messageFile = path.join(dir, 'message.txt');
    fs.writeFileSync(messageFile, messageSessions.map((s, i) => `${s.sid} ${s.rid} ${messageSessions[i ^ 1].jid}\n`).join(''));
    // (b): n/2 pairs, A polls with hold=1, B (hold=0) writes to A.
    const pollers = await Promise.all(Array.from({ length: n / 2 }, (_, i) => login(url, i, 'bp', { hold: 1, wait: 60 })));
    const senders = await Promise.all(Array.from({ length: n / 2 }, (_, i) => login(url, i, 'bs', { hold: 0, wait: 60 })));
    const pairFile = path.join(dir, 'pair.txt');
    fs.writeFileSync(pairFile, pollers.map((a, i) => `${a.sid} ${a.rid} ${senders[i].sid} ${senders[i].rid} ${a.jid}\n`).join(''));
    for (const s of [...repeatSessions, ...messageSessions, ...pollers, ...senders]) s.agent.destroy();

    const barePort = await freePort();
    const bare = await start('taskset', ['-c', '0', BARE, '--listen', `127.0.0.1:${barePort}`, '--body-bytes', String(bodyBytes)],
      { ready: /listening on/, logFile: path.join(dir, 'bare.log') });
    children.push(bare);

    const allCases = [
      { name: 'bare', label: 'bare responder', pid: bare.pid, port: barePort, mode: 'repeat', file: repeatFile },
      { name: 'a', label: '(a) repeated rid, from the cache', pid: sb.pid, port: sbPort, mode: 'repeat', file: repeatFile },
      { name: 'b', label: '(b) held poll + the message releasing it', pid: sb.pid, port: sbPort, mode: 'pair', file: pairFile },
      { name: 'c', label: '(c) message forwarded upstream', pid: sb.pid, port: sbPort, mode: 'message', file: messageFile },
    ];
    const cases = allCases.filter((c) => !ONLY || c.name === 'bare' || ONLY.includes(c.name));
    const results = Object.fromEntries(cases.map((c) => [c.name, []]));
    for (const c of cases) await runLoad(c.port, c.mode, c.file, 1);  // warm-up, not counted
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? cases : [...cases].reverse();
      for (const c of order) {
        const cpu0 = cpuSeconds(c.pid);
        const us0 = userSystem(c.pid);
        const stub0 = treeCpu(stub.pid);
        const r = await runLoad(c.port, c.mode, c.file, SECONDS);
        const serverCpu = cpuSeconds(c.pid) - cpu0;
        const us1 = userSystem(c.pid);
        const userUs = (1e6 * (us1.user - us0.user)) / r.responses;
        const systemUs = (1e6 * (us1.system - us0.system)) / r.responses;
        const stubCpu = treeCpu(stub.pid) - stub0;
        results[c.name].push({ ...r, serverCpu, stubCpu, userUs, systemUs, perCpu: r.responses / serverCpu, rps: r.responses / r.wall });
      }
      const line = cases.map((c) => `${c.name} ${Math.round(results[c.name][round].perCpu)}/cpu-s`).join(', ');
      console.log(`round ${round + 1}/${ROUNDS}: ${line}`);
    }

    // The server's system calls per request: perf stat counts raw_syscalls:sys_enter
    // of its PID over one more run of each case.
    const syscalls = {};
    if (SYSCALLS) {
      for (const c of cases) {
        const perf = spawn('perf', ['stat', '-x,', '-e', 'raw_syscalls:sys_enter', '-p', String(c.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
        let text = '';
        perf.stderr.on('data', (d) => { text += d; });
        const exited = new Promise((resolve) => perf.on('exit', resolve));
        await new Promise((resolve) => setTimeout(resolve, 300));
        const r = await runLoad(c.port, c.mode, c.file, SECONDS);
        perf.kill('SIGINT');
        await exited;
        const count = Number((/^(\d+),/m.exec(text) || [])[1]);
        syscalls[c.name] = count / r.responses;
      }
    }

    const pct = (x) => `${(100 * x).toFixed(0)} %`;
    const ratioOf = (name) => median(results[name].map((r, i) => r.perCpu / results.bare[i].perCpu));
    console.log(`\nanswer body ${bodyBytes} bytes; ${n} connections; ${ROUNDS} rounds of ${SECONDS} s; medians`);
    console.log('| case | requests/s | server CPU | requests per server CPU-second | ratio to bare | server µs/request user + system | client CPU | stub CPU | core 1 (client + stub) |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const c of cases) {
      const rs = results[c.name];
      console.log(`| ${c.label} | ${Math.round(median(rs.map((r) => r.rps))).toLocaleString('en')} | ` +
        `${pct(median(rs.map((r) => r.serverCpu / r.wall)))} | ${Math.round(median(rs.map((r) => r.perCpu))).toLocaleString('en')} | ` +
        `${c.name === 'bare' ? '1' : ratioOf(c.name).toFixed(3)} | ` +
        `${median(rs.map((r) => r.userUs)).toFixed(2)} + ${median(rs.map((r) => r.systemUs)).toFixed(2)} | ${pct(median(rs.map((r) => r.cpu / r.wall)))} | ` +
        `${pct(median(rs.map((r) => r.stubCpu / r.wall)))} | ${pct(median(rs.map((r) => (r.cpu + r.stubCpu) / r.wall)))} |`);
    }
    // (b) is half polls, half message requests of hold=0 sessions, which cost
    // about what (c)'s do: poll cost = 2 * cost(b) - cost(c), per round.
    const derived = !results.b || !results.c ? NaN : median(results.b.map((r, i) => {
      const pollCost = 2 / r.perCpu - 1 / results.c[i].perCpu;
      return (1 / results.bare[i].perCpu) / pollCost;
    }));
    if (!Number.isNaN(derived)) console.log(`\n(b) the held poll alone, derived as 2 * cost(b) - cost(c): ratio to bare ${derived.toFixed(3)}`);
    if (SYSCALLS) console.log(`\nserver system calls per request: ${cases.map((c) => `${c.name} ${syscalls[c.name].toFixed(2)}`).join(', ')}`);
    const errors = cases.reduce((sum, c) => sum + results[c.name].reduce((s, r) => s + r.errors, 0), 0);
    console.log(`errors: ${errors}`);
  } finally {
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err.stack || err);
  process.exitCode = 1;
});
