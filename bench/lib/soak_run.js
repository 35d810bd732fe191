'use strict';
// What the benchmarks that drive switchboard-soak share: finding the soak
// binary, starting a soak in its own process group and following its progress
// lines, fresh private servers (the test harness's ejabberd and
// Prosody, tests/lib/) with many accounts, and one registry of everything started so that
// stopAll() stops it by PID (soaks by their process group, then front ends,
// then servers) on success, failure, timeout or Ctrl-C.
//
// Used by bench/ws_idle_sessions.js (WebSocket, idle memory) and
// bench/side_by_side.js (BOSH, switchboard against the servers' own mod_bosh).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ProsodyServer } = require('../../tests/lib/prosody');
const { EjabberdServer } = require('../../tests/lib/ejabberd');
const { inPool } = require('../../tests/lib/pool');

const repoRoot = path.join(__dirname, '..', '..');

/** SOAK_BIN, else the soak of build/ or build-test/ of this repository. */
function soakBinary() {
  if (process.env.SOAK_BIN) return process.env.SOAK_BIN;
  for (const dir of ['build', 'build-test']) {
    const file = path.join(repoRoot, dir, 'src', 'tools', 'soak', 'switchboard-soak');
    if (fs.existsSync(file)) return file;
  }
  throw new Error('switchboard-soak not found: set SOAK_BIN');
}

const running = new Set();  // things with stop(); front ends carry `front = true`

/** Registers `thing` (anything with stop()) for stopAll(); returns it. */
function track(thing) {
  running.add(thing);
  return thing;
}

/** Stops one tracked thing now (and forgets it); never throws. */
async function stopOne(thing) {
  if (!thing || !running.has(thing)) return null;
  running.delete(thing);
  try {
    return await thing.stop();
  } catch (err) {
    console.error(`stopping: ${err.message}`);
    return null;
  }
}

/**
 * Stops a measured pair: switchboard in front (if any; a problem it reports on
 * stopping goes to `notes`), then the server behind it; logs "<name>: stopped".
 */
async function stopFrontAndServer(switchboard, server, notes, log, name) {
  if (switchboard) {
    const problem = await stopOne(switchboard);
    if (problem) notes.push(problem.split('\n')[0]);
  }
  await stopOne(server);
  log(`${name}: stopped`);
}

/** Stops everything still running: soaks first, then front ends, then servers. */
async function stopAll() {
  for (const thing of [...running]) if (thing.child && thing.online) thing.kill();
  const all = [...running].sort((a, b) => (b.front ? 1 : 0) - (a.front ? 1 : 0));
  for (const thing of all) await stopOne(thing);
}

/**
 * Starts a soak in its own process group. Resolves `up` once its progress line
 * shows `want` sessions online, or once every login has either succeeded or
 * failed (online + errors >= want) and the count has not moved for 5 s (a busy
 * server may fail a few logins: the figures then divide by those online, which
 * `online()` tells); `done` with { status, report, output } at exit. `upAt()` is
 * the Date.now() when `up` resolved.
 */
function startSoak(args, want) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-bench-soak-'));
  const json = path.join(dir, 'report.json');
  const child = spawn(soakBinary(), [...args, '--json', json], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  let resolveUp;
  let upAt = null;
  const up = new Promise((resolve) => { resolveUp = () => { if (upAt === null) upAt = Date.now(); resolve(); }; });
  const latest = { sessions: 0, errors: 0, since: Date.now() };
  let pending = '';
  const onData = (d) => {
    output += d;
    pending += d;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) {
      const m = /sessions (\d+)\/.*errors (\d+)/.exec(line);
      if (!m) continue;
      const sessions = Number(m[1]);
      if (sessions !== latest.sessions) latest.since = Date.now();
      latest.sessions = sessions;
      latest.errors = Number(m[2]);
      if (sessions >= want || (sessions + latest.errors >= want && Date.now() - latest.since > 5000)) resolveUp();
    }
    if (output.length > 1e6) output = output.slice(-200000);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', (d) => { output += d; });
  const done = new Promise((resolve) => {
    child.on('exit', (status) => {
      let report = null;
      try { report = JSON.parse(fs.readFileSync(json, 'utf8')); } catch { /* killed, or failed */ }
      fs.rmSync(dir, { recursive: true, force: true });
      resolveUp();
      resolve({ status, report, output });
    });
  });
  const handle = {
    child, up, done,
    online: () => latest.sessions,
    errors: () => latest.errors,
    upAt: () => upAt,
    kill() {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    },
    async stop() {
      handle.kill();
      await done;
    },
  };
  running.add(handle);
  done.then(() => running.delete(handle));
  return handle;
}

/**
 * A fresh private ejabberd or Prosody (tracked) with accounts user(i) /
 * password(i) for i = 1..users. `options` go to the harness's server class
 * (e.g. { bosh: true, inactivity: 60 } or { websocket: true }). Prosody's
 * accounts are files written in one go; ejabberd's go through its HTTP API, a
 * few registrations at a time.
 */
async function startServer(kind, users, { user = (i) => `u${i}`, password = (i) => `p${i}`, options = {} } = {}) {
  const server = track(kind === 'ejabberd' ? new EjabberdServer(options) : new ProsodyServer(options));
  await server.start();
  if (kind === 'ejabberd') {
    const numbers = Array.from({ length: users }, (_, k) => k + 1);
    const errors = await inPool(numbers, 8, (i) => server.api('register', { user: user(i), host: server.domain, password: password(i) }));
    if (errors.length) throw new Error(`ejabberd: ${errors.length} of ${users} registrations failed: ${errors[0].message}`);
  } else {
    const accounts = {};
    for (let i = 1; i <= users; i++) accounts[user(i)] = password(i);
    server.addUsers(accounts);
  }
  return server;
}

/**
 * Stops everything on the overall timeout and on SIGINT/SIGTERM, then exits
 * (status 2 and 130). Returns a function that cancels the timer.
 */
function stopOnTimeoutOrSignal(timeoutSeconds, log) {
  const deadline = setTimeout(async () => {
    log(`overall timeout (${timeoutSeconds} s): stopping everything`);
    await stopAll();
    process.exit(2);
  }, timeoutSeconds * 1000);
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, async () => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: stopping everything`);
      await stopAll();
      process.exit(130);
    });
  }
  return () => clearTimeout(deadline);
}

module.exports = { soakBinary, startSoak, startServer, track, stopOne, stopFrontAndServer, stopAll, stopOnTimeoutOrSignal, repoRoot };
