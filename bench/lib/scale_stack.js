'use strict';
// What the scale benchmarks share (bench/scale_run.js, bench/ceiling_run.js):
// the binaries of the stub + switchboard + soak stack, how many sessions one
// process of each holds under the 20,000-fd limit, and starting and stopping a
// logged child process by PID.

const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { freePort } = require('../../tests/lib/ports');
const { waitForPort, sleep } = require('../../tests/lib/proc');

const repo = path.resolve(__dirname, '..', '..');
const bin = (env, rel) => process.env[env] || path.join(repo, 'build', rel);
const SWITCHBOARD = bin('SWITCHBOARD_BIN', 'src/switchboard');
const STUB = bin('STUB_BIN', 'src/tools/stub/switchboard-stub');
const SOAK = bin('SOAK_BIN', 'src/tools/soak/switchboard-soak');
const SESSIONS_PER_PROCESS = 15000;  // the stub: one fd per session, well under the 20,000-fd limit
// The soak: one fd per idle session, two while a message goes out on a second
// connection; 9,000 leaves room for every session to have both at once.
const SOAK_SESSIONS_PER_PROCESS = 9000;

/** Starts `command`; resolves once `ready` matches its output (stdout+stderr), or at once without `ready`. */
function start(command, args, { ready, logFile, timeoutMs = 30000 }) {
  const log = fs.openSync(logFile, 'w');
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const onData = (chunk) => {
    fs.writeSync(log, chunk);
    if (seen.length < 65536) seen += chunk;
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.exited = exited;
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = setInterval(() => {
      if (!ready || ready.test(seen)) { clearInterval(poll); resolve(child); }
      else if (child.exitCode !== null || Date.now() > deadline) {
        clearInterval(poll);
        child.kill('SIGKILL');
        reject(new Error(`${path.basename(command)} did not start:\n${seen.slice(-2000)}`));
      }
    }, 100);
  });
}

async function stop(child, ms = 15000) {
  if (!child || child.exitCode !== null) return;
  child.kill('SIGTERM');
  const done = await Promise.race([child.exited.then(() => true), sleep(ms).then(() => false)]);
  if (!done) child.kill('SIGKILL');
}

/** Stub processes for `n` sessions. */
const stubProcs = (n) => Math.max(1, Math.ceil(n / SESSIONS_PER_PROCESS));

/**
 * Upstream source addresses for `n` links to the one stub address: one reaches
 * it from at most ~64,000 ports (ip_local_port_range 1024-65535), and the
 * kernel's port search slows well before the range is full, so one address per
 * 40,000 links, 16 at least past 25,000 (as the scale runs were measured).
 */
function upstreamSources(n) {
  if (n <= 25000) return [];
  const count = Math.max(16, Math.ceil(n / 40000));
  if (count > 250) throw new Error(`${n} links need ${count} upstream source addresses; at most 250 here`);
  return ['--set', `upstream_source_addresses=127.0.0.2-127.0.0.${1 + count}`];
}

/**
 * A fresh stub (one process per SESSIONS_PER_PROCESS sessions) and a fresh
 * switchboard in front of it (`--workers auto` for `n` sessions, max_sessions
 * 10 % above), logs in `dir`. Resolves once switchboard's port answers, plus a
 * second for its workers to settle.
 */
async function startStubAndSwitchboard(n, dir) {
  const stubPort = await freePort();
  const sbPort = await freePort();
  const stub = await start(STUB, ['--listen', `127.0.0.1:${stubPort}`, '--procs', String(stubProcs(n)), '--log-level', 'warn'],
    { ready: /listening on/, logFile: path.join(dir, 'stub.log') });
  let sb = null;
  try {
    sb = await start(SWITCHBOARD, ['--listen', `127.0.0.1:${sbPort}`, '--upstream', `127.0.0.1:${stubPort}`,
      '--workers', 'auto', '--set', `max_sessions=${Math.ceil(n * 1.1)}`, '--log-level', 'warn', ...upstreamSources(n)],
    { ready: null, logFile: path.join(dir, 'switchboard.log') });
    await waitForPort(sbPort);  // at log level warn it prints nothing when all is well
    await sleep(1000);
  } catch (err) {
    await stop(sb);
    await stop(stub);
    throw err;
  }
  return { stub, sb, sbPort, stubPort };
}

module.exports = { stubProcs, upstreamSources, startStubAndSwitchboard, SWITCHBOARD, STUB, SOAK, SESSIONS_PER_PROCESS, SOAK_SESSIONS_PER_PROCESS, start, stop };
