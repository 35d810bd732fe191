'use strict';
// Converse.js in headless Chromium over BOSH through HAProxy in front of three
// switchboard nodes (deploy/haproxy/haproxy.cfg as shipped, tests/lib/haproxy_nodes.js)
// and a real ejabberd. Converse is given only the domain and finds the endpoint
// by XEP-0156: it asks https://localhost/.well-known/host-meta, which a TLS front
// (lib/converse_site.js, where a deployment ends TLS in HAProxy) relays to
// HAProxy, which balances it to a node; the nodes advertise the balancer's URL
// (`public_bosh_url`) and serve BOSH only (`websocket_path = ""`), so Converse
// takes BOSH. alice (Converse) and bob (Strophe.js in Node) sit on
// different nodes and chat; alice's node is killed (SIGKILL): Converse is told
// item-not-found, logs in again by itself (auto_reconnect) on a live node, and
// they chat on; bob's session on his node never notices (same sid, no HTTP
// error, no resend).

const test = require('node:test');
const assert = require('node:assert/strict');

const { waitUntil } = require('../lib/proc');
const { NodesBrowser } = require('./lib/nodes_browser');
const { startConverseSite, startTlsFront } = require('./lib/converse_site');
const { converseTypesToBob, bobRepliesInConverse } = require('./lib/converse_scenario');

const env = new NodesBrowser();
let stack;
let site;
let page;
let bob;
const hostMeta = [];

test.before(async () => {
  stack = await env.startStack({ public_bosh_url: 'https://localhost/http-bind', websocket_path: '' });
  site = await startConverseSite();
  env.closers.push(() => site.close());
  const front = await startTlsFront(stack.frontPort);
  env.closers.push(() => front.close());
  // Only https://localhost (port 443) goes to the front; the page's own origin is untouched.
  page = await env.launch({ ignoreHTTPSErrors: true,
    args: [`--host-resolver-rules=MAP localhost:443 127.0.0.1:${front.port}`, '--ignore-certificate-errors'] });
  page.on('response', (r) => {
    if (r.url().includes('/.well-known/host-meta')) hostMeta.push(`${r.status()} ${r.url()}`);
  });
});

test.after(() => env.stop());

const why = () => env.why();
const aliceSid = () => page.evaluate(() => window.sbTest.api.connection.get()._proto.sid || null);
const service = () => page.evaluate(() => window.sbTest.api.connection.get().service);
const events = () => page.evaluate(() => window.sbTest.events.slice());

async function chat(round) {
  await converseTypesToBob(page, bob, `round ${round} from alice ${Date.now()}`);
  await bobRepliesInConverse(page, bob, `round ${round} from bob ${Date.now()}`);
}

test('alice (Converse.js, the endpoint found by XEP-0156 through HAProxy) and bob (Strophe.js) on two nodes chat, then alice\'s node dies: she logs in again elsewhere and they chat on', { timeout: 90000 }, async () => {
  await page.goto(site.pageUrl({
    jid: 'alice@localhost', password: 'alice', discover_connection_methods: true, auto_reconnect: true,
  }));
  await waitUntil('Converse to connect', async () => (await events()).includes('connected'), { timeoutMs: 20000 })
    .catch((err) => { throw new Error(`${err.message}${why()}`); });
  assert.deepEqual(hostMeta, ['200 https://localhost/.well-known/host-meta'], 'host-meta fetched once, through HAProxy');
  assert.equal(await service(), 'https://localhost/http-bind', 'the BOSH URL the nodes advertise');
  const first = await aliceSid();
  const aliceNode = first.split('.')[0];

  bob = await env.bobElsewhere(aliceNode);
  await bob.waitForPresence({ from: 'alice@localhost' });
  await chat(1);

  const bobBefore = env.bobState();
  const killedAt = Date.now();
  stack.node(aliceNode).kill();
  await waitUntil('Converse to log in again', async () => (await events()).includes('reconnected'), { timeoutMs: 30000 })
    .catch((err) => { throw new Error(`${err.message}${why()}`); });
  const backAfterMs = Date.now() - killedAt;
  const second = await aliceSid();
  assert.notEqual(second, first);
  assert.notEqual(second.split('.')[0], aliceNode, `alice came back on her dead node${why()}`);
  assert.equal(await service(), 'https://localhost/http-bind', 'still the discovered URL');
  await chat(2);

  assert.deepEqual(env.bobState(), bobBefore, `bob kept his sid, saw no HTTP error and resent nothing${why()}`);
  console.log(`# alice on ${aliceNode}, bob on ${bobBefore.sid.split('.')[0]}; ${aliceNode} killed: Converse back on ` +
    `${second.split('.')[0]} after ${backAfterMs} ms (events ${JSON.stringify(await events())}); bob untouched`);
});
