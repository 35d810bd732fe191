'use strict';
// Runs the README's demo command (scripts/demo.sh) as a person would and checks
// what a person relies on: the page is served, alice and bob log in over BOSH and
// chat, a wrong password is refused, and stopping the script (SIGTERM, SIGINT, or
// Ctrl-C, which signals the terminal's whole process group) ends everything it
// started, leaving nothing listening.
//
// Used by demo_stop.test.js (ctest, with the already built binary) and by
// demo_smoke.js (CI's smoke test of the real command, build included).

const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { startLogged, waitForPort, tail, sleep } = require('../../lib/proc');
const { XmppClient } = require('./strophe_client');
const { repoRoot } = require('../../lib/switchboard');

/** Every live descendant of `pid` (children, grandchildren, ...), from /proc. */
function descendants(pid) {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try { stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8'); } catch { continue; }
    // The command name is in parentheses and may hold spaces: read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(entry));
  }
  const found = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of children.get(queue.shift()) || []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    // A zombie still answers kill(0); it holds nothing, but it must be reaped.
    return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

async function listening(port) {
  try {
    await waitForPort(port, { timeoutMs: 200 });
    return true;
  } catch {
    return false;
  }
}

class Demo {
  /**
   * @param opts.port       the web port (SWITCHBOARD_PORT); 5280 as in the README
   * @param opts.binary     an already built switchboard (SWITCHBOARD_BIN), or none to build
   * @param opts.install    run scripts/install-deps.sh (default: no, SKIP_INSTALL=1)
   */
  constructor({ port = 5280, binary = null, install = false } = {}) {
    this.port = port;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-demo-'));
    this.logFile = path.join(this.dir, 'demo.log');
    const env = { ...process.env, SWITCHBOARD_PORT: String(port) };
    delete env.SWITCHBOARD_UPSTREAM;
    if (!install) env.SKIP_INSTALL = '1';
    if (binary) {
      env.SWITCHBOARD_BIN = binary;
      env.BUILD_DIR = path.join(this.dir, 'build');  // only the demo's web root goes there
    }
    // Its own process group, as a terminal gives a command: Ctrl-C is SIGINT to the group.
    this.child = startLogged('bash', [path.join(repoRoot, 'scripts', 'demo.sh')],
      { logFile: this.logFile, env, cwd: repoRoot, group: true });
    this.pid = this.child.pid;
  }

  logs() {
    return `--- demo.sh output (${this.logFile}) ---\n${tail(this.logFile, 60)}`;
  }

  /** Waits until the chat page is served; returns the PIDs the demo runs then. */
  async waitForPage({ timeoutMs = 60000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.hasExited) throw new Error(`demo.sh exited (${this.child.exitStatus})\n${this.logs()}`);
      try {
        const page = await get(`http://127.0.0.1:${this.port}/`);
        if (page.status === 200 && page.body.includes('Switchboard demo chat')) break;
      } catch { /* not up yet */ }
      if (Date.now() > deadline) throw new Error(`no demo page within ${timeoutMs} ms\n${this.logs()}`);
      await sleep(250);
    }
    this.started = descendants(this.pid);
    return this.started;
  }

  /** alice and bob log in over BOSH, chat both ways; a wrong password is refused. */
  async chat() {
    const url = `http://127.0.0.1:${this.port}/http-bind`;
    const alice = new XmppClient(url, { name: 'alice' });
    const bob = new XmppClient(url, { name: 'bob' });
    const mallory = new XmppClient(url, { name: 'wrong-password' });
    try {
      await alice.connect('alice@localhost', 'alice');
      await bob.connect('bob@localhost', 'bob');
      // Available first: the server delivers chat only to available resources.
      alice.sendPresence();
      bob.sendPresence();
      await alice.waitForPresence({ from: 'bob@localhost' });
      alice.sendMessage('bob@localhost', 'hello from the demo check');
      await bob.waitForMessage({ from: 'alice@localhost', body: 'hello from the demo check' });
      bob.sendMessage('alice@localhost', 'and back');
      await alice.waitForMessage({ from: 'bob@localhost', body: 'and back' });
      await assert.rejects(mallory.connect('alice@localhost', 'not-her-password'), /AUTHFAIL/);
      await alice.disconnect();
      await bob.disconnect();
    } finally {
      await Promise.all([alice.close(), bob.close(), mallory.close()]);
    }
  }

  /**
   * Sends `signal` to the script (`group`: to its whole process group, as Ctrl-C
   * does) and checks that the script and everything it started end within
   * `timeoutMs` and that the web port no longer accepts.
   */
  async stop(signal, { group = false, timeoutMs = 30000 } = {}) {
    const started = this.started || descendants(this.pid);
    assert.ok(started.length >= 2, `the demo runs Switchboard and Prosody (${started.length} processes)`);
    process.kill(group ? -this.pid : this.pid, signal);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (!this.child.hasExited || started.some(alive))) await sleep(100);
    const left = started.filter(alive);
    if (left.length) {
      const names = left.map((pid) => { try { return `${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`; } catch { return `${pid}`; } });
      for (const pid of left) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      throw new Error(`after ${signal}${group ? ' to the group' : ''}, still running:\n${names.join('\n')}\n${this.logs()}`);
    }
    assert.ok(this.child.hasExited, `demo.sh ended after ${signal}`);
    assert.equal(await listening(this.port), false, `nothing listens on ${this.port} any more`);
    return this.child.exitStatus;
  }

  /** Last resort for a failed test: nothing may outlive it. */
  kill() {
    for (const pid of [...(this.started || []), ...descendants(this.pid)]) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    try { process.kill(-this.pid, 'SIGKILL'); } catch { /* gone */ }
  }

  cleanup() {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

module.exports = { Demo, descendants };
