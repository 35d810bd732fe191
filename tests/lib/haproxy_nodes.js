'use strict';
// Several Switchboard nodes behind a real HAProxy, in front of a real ejabberd,
// for the tests of docs/nodes.md. Everything is private to one test file: its
// own temp folder, free ports, nodes on their own loopback addresses
// (127.0.0.2, .3, .4: "machines" of one host), each process stopped by its PID.
//
// HAProxy runs deploy/haproxy/haproxy.cfg as shipped, with only the addresses
// substituted (the nodes' 192.0.2.x, their ports, the frontend's bind, the stats
// socket and the error file's folder): the test proves the file an operator
// copies, not a look-alike.

const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');

const { freePort } = require('./ports');
const { startLogged, waitForPort, stopProcess, tail, waitUntil } = require('./proc');
const { findBinary, repoRoot } = require('./switchboard');
const { EjabberdServer } = require('./ejabberd');

const DEPLOY = path.join(repoRoot, 'deploy', 'haproxy');
const NODE_NAMES = ['n1', 'n2', 'n3'];

/** The shipped configuration with this stack's addresses in place of the examples. */
function haproxyConfig({ frontPort, boshPort, agentPort, nodeHosts, socket, dir, globalLines = [] }) {
  let text = fs.readFileSync(path.join(DEPLOY, 'haproxy.cfg'), 'utf8');
  // A tuning a benchmark tries (`tune.bufsize 8192`), at the top of `global`.
  text = text.replace(/^global\n/m, `global\n${globalLines.map((line) => `    ${line}\n`).join('')}`);
  for (let i = 0; i < nodeHosts.length; i++) {
    text = text.replaceAll(`192.0.2.1${i + 1}:5280`, `${nodeHosts[i]}:${boshPort}`);
  }
  text = text.replace('agent-port 5290', `agent-port ${agentPort}`);
  text = text.replace(/^(\s*)bind :80$/m, `$1bind 127.0.0.1:${frontPort}`);
  text = text.replace('/run/haproxy/switchboard.sock', socket);
  text = text.replaceAll('/etc/haproxy/switchboard/', `${dir}/`);
  if (/192\.0\.2\.\d+:/.test(text)) throw new Error('deploy/haproxy/haproxy.cfg: an example address was left');
  return text;
}

class Node {
  constructor({ name, host, boshPort, agentPort, upstreamPort, settings, dir }) {
    Object.assign(this, { name, host, boshPort, agentPort, upstreamPort, settings, dir });
    this.configFile = path.join(dir, `${name}.toml`);
    this.logFile = path.join(dir, `${name}.log`);
  }

  async start() {
    this.metricsPort = await freePort();
    // The file holds what an operator changes at run time (drain); the rest
    // comes from the command line and stays over every reload.
    this.writeFile({ drain: false });
    const sets = {
      listen: `${this.host}:${this.boshPort}`,
      upstream: `127.0.0.1:${this.upstreamPort}`,
      node_id: this.name,
      agent_listen: `${this.host}:${this.agentPort}`,
      metrics_listen: `${this.host}:${this.metricsPort}`,
      inactivity: 10,
      ...this.settings,
    };
    const args = ['--config', this.configFile];
    for (const [k, v] of Object.entries(sets)) args.push('--set', `${k}=${v}`);
    fs.appendFileSync(this.logFile, `[harness] ${findBinary()} ${args.join(' ')}\n`);
    this.child = startLogged(findBinary(), args, { logFile: this.logFile, cwd: this.dir });
    await waitForPort(this.boshPort, { host: this.host, child: this.child, what: `switchboard ${this.name}` });
    await waitForPort(this.agentPort, { host: this.host, child: this.child, what: `agent of ${this.name}` });
  }

  writeFile(keys) {
    fs.writeFileSync(this.configFile, Object.entries(keys).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n') + '\n');
  }

  /** `drain = value` in the file, then SIGHUP; resolves once the reload is applied. */
  async setDrain(value) {
    const done = () => (fs.readFileSync(this.logFile, 'utf8').match(/reload (\d+ )?done/g) || []).length;
    const before = done();
    this.writeFile({ drain: value });
    process.kill(this.child.pid, 'SIGHUP');
    await waitUntil(`${this.name} reloaded`, () => done() > before, { timeoutMs: 5000 });
  }

  /** What the agent says now (one line, as HAProxy reads it). */
  agentLine() {
    return new Promise((resolve, reject) => {
      let text = '';
      const socket = net.connect({ host: this.host, port: this.agentPort });
      socket.setEncoding('utf8');
      socket.on('data', (d) => { text += d; });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
  }

  /** A number from this node's /metrics (0 when absent). */
  async metric(name) {
    const text = await this.metricsText();
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  }

  /** Sessions this node ended with a condition other than `none` (a clean end). */
  async endedBadly() {
    const text = await this.metricsText();
    let n = 0;
    for (const m of text.matchAll(/^switchboard_sessions_ended_total\{condition="([^"]+)"\} (\S+)$/gm)) {
      if (m[1] !== 'none') n += Number(m[2]);
    }
    return n;
  }

  metricsText() {
    return new Promise((resolve, reject) => {
      http.get({ host: this.host, port: this.metricsPort, path: '/metrics' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => { body += d; });
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });
  }

  kill() { process.kill(this.child.pid, 'SIGKILL'); }

  async stop() {
    if (this.child && !this.child.hasExited) await stopProcess(this.child, { timeoutMs: 5000 });
  }

  logs() { return `--- switchboard ${this.name} (${this.logFile}) ---\n${tail(this.logFile, 30)}`; }
}

class NodesStack {
  /**
   * @param opts.users     accounts u1..uN (password pN) on ejabberd
   * @param opts.settings  per node name, extra `--set` keys ({ n3: { max_sessions: 5 } })
   * @param opts.upstreamPort  an XMPP server already listening on 127.0.0.1 (the
   *                       benchmarks' switchboard-stub): no ejabberd, no accounts
   * @param opts.haproxyGlobal  lines added to HAProxy's `global` section (benchmarks only)
   */
  constructor({ users = 100, settings = {}, upstreamPort = null, haproxyGlobal = [] } = {}) {
    this.users = users;
    this.settings = settings;
    this.upstreamPort = upstreamPort;
    this.haproxyGlobal = haproxyGlobal;
  }

  async start() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-nodes-'));
    if (!this.upstreamPort) {
      this.ejabberd = new EjabberdServer({ inactivity: 30 });
      await this.ejabberd.start();
      const users = {};
      for (let i = 1; i <= this.users; i++) users[`u${i}`] = `p${i}`;
      await this.ejabberd.addUsers(users);
    }

    // One BOSH port and one agent port for all: each node has its own address.
    const boshPort = await freePort();
    const agentPort = await freePort();
    const hosts = NODE_NAMES.map((_, i) => `127.0.0.${i + 2}`);
    this.nodes = NODE_NAMES.map((name, i) => new Node({
      name, host: hosts[i], boshPort, agentPort, upstreamPort: this.upstreamPort || this.ejabberd.c2sPort,
      settings: this.settings[name] || {}, dir: this.dir,
    }));
    for (const node of this.nodes) await node.start();

    this.frontPort = await freePort();
    this.socket = path.join(this.dir, 'haproxy.sock');
    fs.copyFileSync(path.join(DEPLOY, 'item-not-found.http'), path.join(this.dir, 'item-not-found.http'));
    const config = path.join(this.dir, 'haproxy.cfg');
    fs.writeFileSync(config, haproxyConfig({ frontPort: this.frontPort, boshPort, agentPort,
      nodeHosts: hosts, socket: this.socket, dir: this.dir, globalLines: this.haproxyGlobal }));
    this.haproxyLog = path.join(this.dir, 'haproxy.log');
    this.haproxy = startLogged('haproxy', ['-db', '-f', config], { logFile: this.haproxyLog, cwd: this.dir, group: true });
    await waitForPort(this.frontPort, { child: this.haproxy, what: 'haproxy' });
    await this.waitForServers((s) => s.status === 'UP' && s.weight > 0, NODE_NAMES);
    return this;
  }

  get boshUrl() { return `http://127.0.0.1:${this.frontPort}/http-bind`; }
  get wsUrl() { return `ws://127.0.0.1:${this.frontPort}/xmpp-websocket`; }
  node(name) { return this.nodes.find((n) => n.name === name); }

  /** One command on HAProxy's stats socket; resolves with its answer. */
  command(line) {
    return new Promise((resolve, reject) => {
      let text = '';
      const socket = net.connect(this.socket);
      socket.setEncoding('utf8');
      socket.on('connect', () => socket.end(`${line}\n`));
      socket.on('data', (d) => { text += d; });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
  }

  /** The balancing backend's servers as HAProxy sees them: { n1: { status, weight }, ... }. */
  async servers() {
    const csv = await this.command('show stat');
    const lines = csv.split('\n');
    const head = lines[0].replace(/^# /, '').split(',');
    const col = (name) => head.indexOf(name);
    const out = {};
    for (const line of lines.slice(1)) {
      const f = line.split(',');
      if (f[col('pxname')] !== 'switchboard' || !NODE_NAMES.includes(f[col('svname')])) continue;
      out[f[col('svname')]] = { status: f[col('status')], weight: Number(f[col('weight')]) };
    }
    return out;
  }

  async waitForServers(predicate, names, { timeoutMs = 15000 } = {}) {
    let last = null;
    try {
      await waitUntil('haproxy sees the nodes', async () => {
        last = await this.servers();
        return names.every((n) => last[n] && predicate(last[n]));
      }, { timeoutMs, everyMs: 200 });
    } catch (err) {
      throw new Error(`${err.message}: ${JSON.stringify(last)}\n${this.logs()}`);
    }
    return last;
  }

  /** switchboard_sessions_created_total (or another counter) of each node. */
  async counts(metric = 'switchboard_sessions_created_total') {
    const out = {};
    for (const node of this.nodes) out[node.name] = node.child.hasExited ? 0 : await node.metric(metric);
    return out;
  }

  logs() {
    return [`--- haproxy (${this.haproxyLog}) ---\n${tail(this.haproxyLog, 30)}`,
      ...(this.nodes || []).map((n) => n.logs()), this.ejabberd ? this.ejabberd.logs() : ''].join('\n');
  }

  async stop() {
    if (this.haproxy) await stopProcess(this.haproxy, { timeoutMs: 5000 });
    for (const node of this.nodes || []) await node.stop();
    if (this.ejabberd) await this.ejabberd.stop();
    if (this.dir && !process.env.SB_KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

module.exports = { NodesStack, haproxyConfig };
