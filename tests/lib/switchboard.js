'use strict';
// Runs the Switchboard daemon under test: a free loopback port, --upstream at
// the XMPP server's c2s port, stderr captured to a file that a failing test
// prints. Stopped by PID (SIGTERM, then SIGKILL).
//
// With `config` (an object of config keys), the settings go into a TOML config
// file in the daemon's folder instead (listen and upstream included, so that a
// reload can change them too), given with --config; writeConfig() rewrites it
// and reload() sends SIGHUP. tomlConfig() renders such an object.
//
// The binary comes from SWITCHBOARD_BIN (ctest sets it to the built target).
// Run by hand, we fall back to the usual build folders of the repository.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { freePort } = require('./ports');
const { startLogged, waitForPort, stopProcess, tail } = require('./proc');

const repoRoot = path.resolve(__dirname, '..', '..');

function findBinary() {
  if (process.env.SWITCHBOARD_BIN) return process.env.SWITCHBOARD_BIN;
  for (const candidate of ['build/src/switchboard', 'build/switchboard']) {
    const file = path.join(repoRoot, candidate);
    if (fs.existsSync(file)) return file;
  }
  throw new Error('switchboard binary not found: set SWITCHBOARD_BIN (or SB_DIRECT=1 to test against the server\'s own BOSH)');
}

/**
 * A TOML config file for `config`: strings quoted, numbers and booleans bare,
 * arrays as arrays; an object value is a table (only `upstream` may be one), put
 * last. JSON's string escapes are valid TOML basic-string escapes.
 */
function tomlConfig(config) {
  const lines = [];
  const tables = [];
  const value = (v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v));
  for (const [key, v] of Object.entries(config)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      tables.push(`[${key}]`);
      for (const [k, item] of Object.entries(v)) tables.push(`${JSON.stringify(k)} = ${value(item)}`);
    } else {
      lines.push(`${key} = ${Array.isArray(v) ? `[${v.map(value).join(', ')}]` : value(v)}`);
    }
  }
  return `${[...lines, ...tables].join('\n')}\n`;
}

class Switchboard {
  /**
   * @param opts.upstreamPort  the XMPP server's c2s port on 127.0.0.1
   * @param opts.settings      extra `--set key=value` pairs, e.g. { inactivity: 5 }
   * @param opts.metrics       also serve /metrics on a free port (metricsPort, metricsUrl)
   * @param opts.config        config keys for a TOML file given with --config
   * @param opts.binary        the binary to run (default: findBinary())
   */
  constructor({ upstreamPort, settings = {}, metrics = false, config = null, binary = null }) {
    this.binaryOverride = binary;
    this.upstreamPort = upstreamPort;
    this.settings = settings;
    this.metrics = metrics;
    this.config = config;
  }

  async start({ timeoutMs = 10000 } = {}) {
    this.binary = this.binaryOverride || findBinary();
    this.port = await freePort();
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-switchboard-'));
    this.logFile = path.join(this.dir, 'switchboard.log');
    let args;
    if (this.config) {
      this.configFile = path.join(this.dir, 'switchboard.toml');
      this.writeConfig(this.config);
      args = ['--config', this.configFile];
    } else {
      args = ['--listen', `127.0.0.1:${this.port}`, '--upstream', `127.0.0.1:${this.upstreamPort}`];
    }
    if (this.metrics) {
      this.metricsPort = await freePort();
      args.push('--set', `metrics_listen=127.0.0.1:${this.metricsPort}`);
    }
    for (const [key, value] of Object.entries(this.settings)) args.push('--set', `${key}=${value}`);
    fs.writeFileSync(this.logFile, `[harness] ${this.binary} ${args.join(' ')}\n`);
    this.child = startLogged(this.binary, args, { logFile: this.logFile, cwd: this.dir });
    await waitForPort(this.port, { child: this.child, timeoutMs, what: 'switchboard' });
    return this;
  }

  get metricsUrl() {
    return `http://127.0.0.1:${this.metricsPort}/metrics`;
  }

  /** Writes the config file: `config`'s keys over the listen and upstream of this daemon. */
  writeConfig(config) {
    this.config = config;
    const all = { listen: `127.0.0.1:${this.port}`, ...config };
    if (!('upstream' in config) && !('allowed_routes' in config)) all.upstream = `127.0.0.1:${this.upstreamPort}`;
    fs.writeFileSync(this.configFile, tomlConfig(all));
  }

  /** The daemon's process id now: an upgrade in place hands it to another process. */
  get pid() { return this.upgradedPid || this.child.pid; }

  /** SIGHUP: re-read the config file. */
  reload() { process.kill(this.pid, 'SIGHUP'); }

  /** SIGUSR1: reopen the log file. */
  reopenLogs() { process.kill(this.pid, 'SIGUSR1'); }

  /**
   * SIGUSR2: an upgrade in place (docs/upgrade.md). Resolves once the new daemon
   * logged "upgrade: N sessions moved, ..." and the old one is gone, with
   * { oldPid, newPid, moved, line }; the old one's exit status must be 0 when it
   * was this harness's child. Rejects with the log when either does not happen.
   * Needs log_level info (the default): the outcome is an info line.
   * `beforeOldExits` (async) runs between the two, while the old daemon still
   * passes on the connections that stayed with it.
   */
  async upgrade({ timeoutMs = 20000, beforeOldExits = null } = {}) {
    const done = /upgrade: (\d+) sessions moved[^\n]*/g;
    const before = (this.stderr().match(done) || []).length;
    const oldPid = this.pid;
    process.kill(oldPid, 'SIGUSR2');
    const text = await this.waitForLog(done, { count: before + 1, timeoutMs });
    const lines = [...text.matchAll(done)];
    const line = lines[lines.length - 1];
    const started = [...text.matchAll(/upgrade: started \S+ \(pid (\d+)\)/g)];
    const newPid = Number(started[started.length - 1][1]);
    // The old daemon lingers a moment after the move (passing on what stayed with
    // it): a test may act in it.
    if (beforeOldExits) await beforeOldExits();
    const deadline = Date.now() + timeoutMs;
    while (!processGone(oldPid)) {
      if (Date.now() > deadline) throw new Error(`the old daemon (pid ${oldPid}) did not exit\n${this.logs()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (oldPid === this.child.pid) {
      const status = await this.child.exited;
      if (status !== 0) throw new Error(`the old daemon exited with status ${status}\n${this.logs()}`);
    }
    this.upgradedPid = newPid;
    this.upgrades = (this.upgrades || 0) + 1;
    return { oldPid, newPid, moved: Number(line[1]), line: line[0] };
  }

  /** The captured stderr so far. */
  stderr() { return fs.readFileSync(this.logFile, 'utf8'); }

  /**
   * Resolves once `pattern` has matched `count` lines of `file` (the captured
   * stderr by default); rejects with the file's end after `timeoutMs`.
   */
  async waitForLog(pattern, { count = 1, file = this.logFile, timeoutMs = 10000 } = {}) {
    const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let text = '';
      try { text = fs.readFileSync(file, 'utf8'); } catch { /* not there yet */ }
      if ((text.match(global) || []).length >= count) return text;
      if (Date.now() > deadline) {
        throw new Error(`no ${count}x ${pattern} in ${file} after ${timeoutMs} ms:\n${tail(file, 40)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  get boshUrl() {
    return `http://127.0.0.1:${this.port}/http-bind`;
  }

  /** XMPP over WebSocket (RFC 7395) on the same listener, at the default websocket_path. */
  get wsUrl() {
    return `ws://127.0.0.1:${this.port}${this.settings.websocket_path || '/xmpp-websocket'}`;
  }

  logs() {
    return `--- switchboard stderr (${this.logFile}) ---\n${tail(this.logFile, 80)}`;
  }

  /**
   * Stops the daemon (SIGTERM, then SIGKILL) and says how it went: null when it
   * exited with status 0 and its log holds no sanitizer report, else a message
   * with the end of its log. A non-zero status is a crash, a daemon that ignored
   * SIGTERM, or (in the ASan build, scripts/sanitize.sh) a leak found at exit or
   * an ASan/UBSan error. Worker processes share the log but not the exit status,
   * hence the look at the log. Never throws; the log is kept when something went
   * wrong.
   */
  async stop() {
    if (this.upgradedPid) await stopPid(this.upgradedPid, { timeoutMs: 5000 });
    await stopProcess(this.child, { timeoutMs: 5000 });
    const status = this.child ? this.child.exitStatus : 0;
    let log = '';
    try { log = fs.readFileSync(this.logFile, 'utf8'); } catch { /* never started */ }
    // A daemon that took over is not this harness's child: its clean end is its
    // "stopped" line (one per daemon: the first and each upgrade's).
    if (this.upgradedPid && (log.match(/\] stopped$/gm) || []).length < this.upgrades + 1) {
      return `the upgraded switchboard (pid ${this.upgradedPid}) did not stop cleanly\n${this.logs()}`;
    }
    const report = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: /.exec(log);
    // A worker's crash (an assertion, a bad access) shows only in the log: the
    // supervisor's own exit status stays 0. Tests kill workers with SIGKILL only.
    const crash = /killed by signal (4|6|7|8|11)\b|Assertion `.*' failed/.exec(log);
    let problem = null;
    if (status !== 0 && status !== undefined) {
      problem = `switchboard did not exit cleanly after SIGTERM (status ${status})\n${this.logs()}`;
    } else if (report) {
      problem = `switchboard's log holds a sanitizer report ("${report[0]}")\n${this.logs()}`;
    } else if (crash) {
      problem = `a switchboard process crashed ("${crash[0]}")\n${this.logs()}`;
    }
    if (this.dir && !process.env.SB_KEEP && !problem) fs.rmSync(this.dir, { recursive: true, force: true });
    return problem;
  }
}

/** True when `pid` has exited (gone, or a zombie nobody reaped yet). */
function processGone(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** SIGTERM to a process that is not our child, SIGKILL after `timeoutMs`. */
async function stopPid(pid, { timeoutMs = 5000 } = {}) {
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + timeoutMs;
  while (!processGone(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (!processGone(pid)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

module.exports = { Switchboard, processGone, findBinary, repoRoot, tomlConfig };
