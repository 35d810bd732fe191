'use strict';
// Child processes of the test harness: start in the background with output to
// a log file, wait until a TCP port accepts, stop by PID, show a log's tail.
//
// Everything the tests start is stopped through the PID (or the process group)
// we got from spawn: never by process name, because other test files, the
// developer's own servers and Erlang's shared epmd may be running beside us.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves true if `promise` settles within `ms`, else false; leaves no timer behind. */
function settlesWithin(promise, ms) {
  let timer;
  const expired = new Promise((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  return Promise.race([promise.then(() => true), expired]).finally(() => clearTimeout(timer));
}

/**
 * Starts `command args` in the background, stdout and stderr appended to
 * `logFile`. With `group: true` the child leads a new process group, so that
 * stopProcess can also reach the grandchildren a wrapper script leaves
 * (ejabberdctl runs the Erlang VM as a child, not through exec).
 * Returns the ChildProcess; `child.exited` is a promise of its exit code.
 */
function startLogged(command, args, { logFile, env, cwd, group = false }) {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(command, args, {
    cwd,
    env: env || process.env,
    stdio: ['ignore', out, out],
    detached: group,
  });
  fs.closeSync(out);
  child.group = group;
  child.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code === null ? signal : code));
    child.once('error', (err) => {
      fs.appendFileSync(logFile, `\n[harness] could not start ${command}: ${err.message}\n`);
      resolve('spawn-error');
    });
  });
  child.exited.then((status) => {
    child.hasExited = true;
    child.exitStatus = status;
  });
  return child;
}

/** Resolves once host:port (127.0.0.1 unless told) accepts a TCP connection. */
async function waitForPort(port, { timeoutMs = 15000, child = null, what = `port ${port}`, host = '127.0.0.1' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.hasExited) throw new Error(`${what}: the process exited (${child.exitStatus}) before it listened`);
    if (await canConnect(port, host)) return;
    if (Date.now() > deadline) throw new Error(`${what}: nothing accepted on ${host}:${port} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

function canConnect(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Stops a child started by startLogged: SIGTERM, then SIGKILL after
 * `timeoutMs`. A process group is signalled as a whole (-pgid), which only ever
 * contains what we started. Safe to call twice or on a process already gone.
 */
async function stopProcess(child, { timeoutMs = 5000 } = {}) {
  if (!child || child.pid === undefined) return;
  const signal = (sig) => {
    try {
      process.kill(child.group ? -child.pid : child.pid, sig);
    } catch { /* already gone */ }
  };
  if (!child.hasExited) {
    signal('SIGTERM');
    if (!(await settlesWithin(child.exited, timeoutMs))) {
      signal('SIGKILL');
      await settlesWithin(child.exited, 2000);
    }
  }
  // The leader may be gone while group members linger (e.g. the Erlang VM after
  // its wrapper script ended): make sure the whole group is gone too.
  if (child.group && groupAlive(child.pid)) {
    signal('SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (groupAlive(child.pid) && Date.now() < deadline) await sleep(100);
    if (groupAlive(child.pid)) signal('SIGKILL');
  }
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The last `lines` lines of a text file, or a note that it is missing. */
function tail(file, lines = 60) {
  try {
    const text = fs.readFileSync(file, 'utf8').split('\n');
    return text.slice(-lines - 1).join('\n');
  } catch (err) {
    return `(no log: ${err.message})`;
  }
}

/** Polls `predicate` until it returns something truthy (resolved with it); fails the test after `timeoutMs`. */
async function waitUntil(what, predicate, { timeoutMs = 10000, everyMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) require('node:assert/strict').fail(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(everyMs);
  }
}

module.exports = { startLogged, waitForPort, stopProcess, tail, sleep, waitUntil };
