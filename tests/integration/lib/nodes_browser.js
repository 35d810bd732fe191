'use strict';
// What the browser tests through several nodes share
// (nodes_converse_ejabberd.test.js, nodes_strophe_chromium_ejabberd.test.js):
// three switchboard nodes behind HAProxy in front of ejabberd
// (tests/lib/haproxy_nodes.js) with alice and bob, friends; headless Chromium
// with a fresh profile and the page's console kept; bob (Strophe.js in Node)
// logged in on another node than alice's; the failure text (console and logs);
// stopping it all, each thing by its own handle.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const { NodesStack } = require('../../lib/haproxy_nodes');
const { XmppClient } = require('./strophe_client');

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--no-default-browser-check', '--disable-dev-shm-usage'];

class NodesBrowser {
  constructor() {
    this.consoleLines = [];
    this.closers = []; // what else the test started (a web site, a TLS front), closed last
  }

  /** The stack, every node with `nodeSettings` (`--set` keys), alice and bob friends on ejabberd. */
  async startStack(nodeSettings = {}) {
    this.stack = new NodesStack({ users: 0, settings: { n1: nodeSettings, n2: nodeSettings, n3: nodeSettings } });
    await this.stack.start();
    await this.stack.ejabberd.addUsers({ alice: 'alice', bob: 'bob' });
    await this.stack.ejabberd.befriend(['alice', 'bob']);
    return this.stack;
  }

  /** Chromium with the common flags plus `args`; resolves with its page. */
  async launch({ args = [], ...options } = {}) {
    this.profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-nodes-browser-'));
    this.context = await chromium.launchPersistentContext(this.profileDir, {
      executablePath: CHROMIUM, headless: true, timeout: 30000, args: [...FLAGS, ...args], ...options,
    });
    this.page = this.context.pages()[0] || (await this.context.newPage());
    this.page.setDefaultTimeout(20000);
    this.page.on('console', (msg) => this.consoleLines.push(`[${msg.type()}] ${msg.text()}`));
    return this.page;
  }

  /** bob logged in on a node other than `aliceNode` (creations are balanced in turn), his presence sent. */
  async bobElsewhere(aliceNode) {
    for (let tries = 0; ; tries++) {
      this.bob = new XmppClient(this.stack.boshUrl, { name: 'bob' });
      await this.bob.connect('bob@localhost', 'bob');
      if (this.bob.sid.split('.')[0] !== aliceNode) break;
      assert.ok(tries < 3, 'bob keeps landing on alice\'s node');
      await this.bob.close();
    }
    this.bob.sendPresence();
    return this.bob;
  }

  /** What bob would notice of a fault elsewhere: his sid, HTTP errors, resends. */
  bobState() {
    return { sid: this.bob.sid, httpErrors: JSON.stringify(this.bob.httpErrors), resends: this.bob.resends };
  }

  why() {
    return `\n--- page console ---\n${this.consoleLines.slice(-40).join('\n')}\n${this.stack.logs()}`;
  }

  async stop() {
    if (this.bob) await this.bob.close();
    if (this.context) await this.context.close().catch(() => {});
    for (const close of this.closers) await close();
    if (this.profileDir) fs.rmSync(this.profileDir, { recursive: true, force: true });
    if (this.stack) await this.stack.stop();
  }
}

module.exports = { NodesBrowser };
