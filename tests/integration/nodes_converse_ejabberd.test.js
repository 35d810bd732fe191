'use strict';
// Converse.js in headless Chromium over BOSH through HAProxy in front of three
// switchboard nodes (deploy/haproxy/haproxy.cfg as shipped, tests/lib/haproxy_nodes.js)
// and a real ejabberd. alice (Converse) and bob (Strophe.js in Node) sit on
// different nodes and chat; alice's node is killed (SIGKILL): Converse is told
// item-not-found, logs in again by itself (auto_reconnect) on a live node, and
// they chat on; bob's session on his node never notices (same sid, no HTTP
// error, no resend).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const { NodesStack } = require('../lib/haproxy_nodes');
const { waitUntil } = require('../lib/proc');
const { XmppClient } = require('./lib/strophe_client');
const { startConverseSite } = require('./lib/converse_site');

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--no-default-browser-check', '--disable-dev-shm-usage'];

let stack;
let site;
let profileDir;
let context;
let page;
let bob;
const consoleLines = [];

test.before(async () => {
  stack = new NodesStack({ users: 0 });
  await stack.start();
  await stack.ejabberd.addUsers({ alice: 'alice', bob: 'bob' });
  await stack.ejabberd.befriend(['alice', 'bob']);
  site = await startConverseSite();
  profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-converse-nodes-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30000,
  });
  page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(20000);
  page.on('console', (msg) => consoleLines.push(`[${msg.type()}] ${msg.text()}`));
});

test.after(async () => {
  if (bob) await bob.close();
  if (context) await context.close().catch(() => {});
  if (site) await site.close();
  if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
  if (stack) await stack.stop();
});

const why = () => `\n--- page console ---\n${consoleLines.slice(-40).join('\n')}\n${stack.logs()}`;
const aliceSid = () => page.evaluate(() => window.sbTest.api.connection.get()._proto.sid || null);
const events = () => page.evaluate(() => window.sbTest.events.slice());

async function chat(round) {
  const text = `round ${round} from alice ${Date.now()}`;
  await page.evaluate(() => window.sbTest.api.chats.open('bob@localhost', {}, true));
  const box = page.locator('converse-chat textarea.chat-textarea');
  await box.waitFor();
  await box.fill(text);
  await box.press('Enter');
  await bob.waitForMessage({ from: 'alice@localhost', body: text });
  const reply = `round ${round} from bob ${Date.now()}`;
  bob.sendMessage('alice@localhost', reply);
  await page.locator('.chat-msg__text', { hasText: reply }).waitFor();
}

test('alice (Converse.js) and bob (Strophe.js) on two nodes chat, then alice\'s node dies: she logs in again elsewhere and they chat on', { timeout: 90000 }, async () => {
  await page.goto(site.pageUrl({
    jid: 'alice@localhost', password: 'alice', bosh_service_url: stack.boshUrl, websocket_url: null,
    discover_connection_methods: false, auto_reconnect: true,
  }));
  await waitUntil('Converse to connect', async () => (await events()).includes('connected'), { timeoutMs: 20000 });
  const first = await aliceSid();
  const aliceNode = first.split('.')[0];

  // bob on another node: creations are balanced in turn, so the next one is.
  for (let tries = 0; ; tries++) {
    bob = new XmppClient(stack.boshUrl, { name: 'bob' });
    await bob.connect('bob@localhost', 'bob');
    if (bob.sid.split('.')[0] !== aliceNode) break;
    assert.ok(tries < 3, 'bob keeps landing on alice\'s node');
    await bob.close();
  }
  bob.sendPresence();
  await bob.waitForPresence({ from: 'alice@localhost' });
  await chat(1);

  const bobSid = bob.sid;
  const bobErrors = JSON.stringify(bob.httpErrors);
  const bobResends = bob.resends;
  const killedAt = Date.now();
  stack.node(aliceNode).kill();
  await waitUntil('Converse to log in again', async () => (await events()).includes('reconnected'), { timeoutMs: 30000 })
    .catch((err) => { throw new Error(`${err.message}: ${JSON.stringify(consoleLines.slice(-5))}${why()}`); });
  const backAfterMs = Date.now() - killedAt;
  const second = await aliceSid();
  assert.notEqual(second, first);
  assert.notEqual(second.split('.')[0], aliceNode, `alice came back on her dead node${why()}`);
  await chat(2);

  assert.equal(bob.sid, bobSid, 'bob kept his session');
  assert.equal(JSON.stringify(bob.httpErrors), bobErrors, `bob saw HTTP errors${why()}`);
  assert.equal(bob.resends, bobResends, 'bob resent requests');
  console.log(`# alice on ${aliceNode}, bob on ${bobSid.split('.')[0]}; ${aliceNode} killed: Converse back on ` +
    `${second.split('.')[0]} after ${backAfterMs} ms (events ${JSON.stringify(await events())}); bob untouched`);
});
