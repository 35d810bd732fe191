'use strict';
// Runs the Switchboard daemon under test: a free loopback port, --upstream at
// the XMPP server's c2s port, stderr captured to a file that a failing test
// prints. Stopped by PID (SIGTERM, then SIGKILL).
//
// The binary comes from SWITCHBOARD_BIN (ctest sets it to the built target).
// Run by hand, we fall back to the usual build folders of the repository.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { freePort } = require('./ports');
const { startLogged, waitForPort, stopProcess, tail } = require('./proc');

const repoRoot = path.resolve(__dirname, '..', '..', '..');

function findBinary() {
  if (process.env.SWITCHBOARD_BIN) return process.env.SWITCHBOARD_BIN;
  for (const candidate of ['build/src/switchboard', 'build/switchboard']) {
    const file = path.join(repoRoot, candidate);
    if (fs.existsSync(file)) return file;
  }
  throw new Error('switchboard binary not found: set SWITCHBOARD_BIN (or SB_DIRECT=1 to test against the server\'s own BOSH)');
}

class Switchboard {
  /**
   * @param opts.upstreamPort  the XMPP server's c2s port on 127.0.0.1
   * @param opts.settings      extra `--set key=value` pairs, e.g. { inactivity: 5 }
   * @param opts.metrics       also serve /metrics on a free port (metricsPort, metricsUrl)
   */
  constructor({ upstreamPort, settings = {}, metrics = false }) {
    this.upstreamPort = upstreamPort;
    this.settings = settings;
    this.metrics = metrics;
  }

  async start({ timeoutMs = 10000 } = {}) {
    this.binary = findBinary();
    this.port = await freePort();
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-switchboard-'));
    this.logFile = path.join(this.dir, 'switchboard.log');
    const args = ['--listen', `127.0.0.1:${this.port}`, '--upstream', `127.0.0.1:${this.upstreamPort}`];
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
    await stopProcess(this.child, { timeoutMs: 5000 });
    const status = this.child ? this.child.exitStatus : 0;
    let log = '';
    try { log = fs.readFileSync(this.logFile, 'utf8'); } catch { /* never started */ }
    const report = /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error: /.exec(log);
    let problem = null;
    if (status !== 0 && status !== undefined) {
      problem = `switchboard did not exit cleanly after SIGTERM (status ${status})\n${this.logs()}`;
    } else if (report) {
      problem = `switchboard's log holds a sanitizer report ("${report[0]}")\n${this.logs()}`;
    }
    if (this.dir && !process.env.SB_KEEP && !problem) fs.rmSync(this.dir, { recursive: true, force: true });
    return problem;
  }
}

module.exports = { Switchboard, findBinary, repoRoot };
