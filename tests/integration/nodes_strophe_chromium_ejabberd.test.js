'use strict';
// Strophe.js in headless Chromium (the demo chat page, deploy/demo/, with
// Strophe's browser build) over BOSH through HAProxy in front of three
// switchboard nodes (deploy/haproxy/haproxy.cfg as shipped,
// tests/lib/haproxy_nodes.js) and a real ejabberd. alice (the page) and bob
// (Strophe.js in Node) sit on different nodes and chat; alice's node is killed
// (SIGKILL): her next request is answered `terminate` with `item-not-found`, the
// page shows it next to its login form, and she logs in again there, which
// HAProxy balances to a live node; they chat on, and bob's session never
// notices (same sid, no HTTP error, no resend).

const test = require('node:test');
const assert = require('node:assert/strict');

const { NodesBrowser } = require('./lib/nodes_browser');
const { startStaticServer, demoFiles } = require('./lib/static_server');
const { repoRoot } = require('../lib/switchboard');

const env = new NodesBrowser();
let stack;
let page;
let bob;
const sids = []; // every sid a session creation answered the page, in order
const terminates = []; // every `terminate` the page was answered
let site;

test.before(async () => {
  stack = await env.startStack();
  site = await startStaticServer(demoFiles(repoRoot));
  env.closers.push(() => site.close());
  page = await env.launch();
  page.on('response', async (res) => {
    if (res.request().method() !== 'POST' || !res.url().startsWith(stack.boshUrl)) return;
    const body = await res.text().catch(() => '');
    const created = /<body[^>]*\ssid=["']([^"']+)["']/.exec(body);
    if (created && !/\ssid=/.test(res.request().postData() || '')) sids.push(created[1]);
    const end = /<body[^>]*type=["']terminate["'][^>]*condition=["']([^"']+)["']/.exec(body);
    if (end) terminates.push(end[1]);
  });
});

test.after(() => env.stop());

const why = () => env.why();

async function logIn() {
  await page.fill('#password', 'alice');
  await page.click('#login-button');
  await page.waitForSelector('#status[data-state="online"]');
  await page.waitForSelector('#roster li[data-jid="bob@localhost"]');
}

async function chat(round) {
  const text = `round ${round} from alice ${Date.now()}`;
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
  await bob.waitForMessage({ from: 'alice@localhost', body: text });
  const reply = `round ${round} from bob ${Date.now()}`;
  bob.sendMessage('alice@localhost', reply);
  await page.locator('#log li.theirs .body', { hasText: reply }).waitFor();
}

test('alice (Strophe.js in Chromium) and bob on two nodes chat; alice\'s node dies: item-not-found, she logs in again on a live node and they chat on', { timeout: 60000 }, async () => {
  await page.goto(`${site.url}?bosh=${encodeURIComponent(stack.boshUrl)}`);
  await logIn();
  assert.equal(sids.length, 1, `one creation: ${JSON.stringify(sids)}`);
  const aliceNode = sids[0].split('.')[0];

  bob = await env.bobElsewhere(aliceNode);
  await page.waitForSelector('#roster li[data-jid="bob@localhost"].online');
  await bob.waitForPresence({ from: 'alice@localhost' });
  await chat(1);

  const bobBefore = env.bobState();
  const killedAt = Date.now();
  stack.node(aliceNode).kill();
  const error = page.locator('#login-form #login-error');
  await error.waitFor({ state: 'visible' })
    .catch((err) => { throw new Error(`${err.message}${why()}`); });
  const toldAfterMs = Date.now() - killedAt;
  assert.match(await error.textContent(), /item-not-found/);
  assert.deepEqual(terminates, ['item-not-found']);

  await logIn();
  const backAfterMs = Date.now() - killedAt;
  assert.equal(sids.length, 2, `a second creation: ${JSON.stringify(sids)}`);
  const liveNode = sids[1].split('.')[0];
  assert.notEqual(liveNode, aliceNode, `alice came back on her dead node${why()}`);
  await chat(2);

  assert.deepEqual(env.bobState(), bobBefore, `bob kept his sid, saw no HTTP error and resent nothing${why()}`);
  console.log(`# alice on ${aliceNode}, bob on ${bobBefore.sid.split('.')[0]}; ${aliceNode} killed: the page shows ` +
    `item-not-found after ${toldAfterMs} ms, alice back on ${liveNode} ${backAfterMs} ms after the kill; bob untouched`);
});
