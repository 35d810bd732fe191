'use strict';
// The checks both chat scenarios make (chat_scenario.js over BOSH,
// ws_chat_scenario.js over WebSocket beside BOSH): dependent steps that carry
// the logs, two-way messages with awkward text and a burst in order, and "the
// server no longer has this session".

const assert = require('node:assert/strict');
const { it } = require('node:test');
const { sleep } = require('../../lib/proc');

/**
 * Returns step(name, fn): a test that is skipped once an earlier one failed, and
 * whose error carries `where(stack)` and the stack's logs. The steps share one
 * server and depend on each other.
 */
function dependentSteps(getStack, where) {
  let earlierStepFailed = false;
  return (name, fn) => it(name, async (t) => {
    const stack = getStack();
    if (earlierStepFailed || !stack) return t.skip('an earlier step failed');
    try {
      await fn(t);
    } catch (err) {
      earlierStepFailed = true;
      err.message += `\n(${where(stack)})\n${stack.logs()}`;
      throw err;
    }
  });
}

/** Pings `fullJid` until the server answers with an error (its resource is gone). */
async function expectGone(client, fullJid, { timeoutMs = 10000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await client.ping(fullJid, { timeoutMs: 3000 }).catch((err) => err.message);
    if (last === 'error') return;
    await sleep(250);
  }
  assert.fail(`the server still routes to ${fullJid} (last ping: ${last})`);
}

/** Where the server can list its sessions (ejabberd), `fullJid` is not among them. */
async function expectNotListed(server, fullJid) {
  if (!server.connectedUsers) return;
  const online = await server.connectedUsers();
  assert.ok(!online.includes(fullJid), `server still lists ${fullJid}: ${online}`);
}

/**
 * alice and bob exchange messages both ways with XML-special and non-ASCII text
 * (bob's copy stamped with alice's full JID), then a burst of 20 from alice
 * arrives complete and in order.
 */
async function exchangeMessages(alice, bob, jid) {
  const toBob = `hello bob <b>&amp; "friends"</b> ' ü → 😀 ${Date.now()}`;
  const toAlice = `hi alice ]]> & <![CDATA[ x ]]> ${Date.now()}`;
  alice.sendMessage(jid('bob'), toBob);
  const atBob = await bob.waitForMessage({ from: jid('alice'), body: toBob });
  assert.equal(atBob.from, alice.jid, 'stamped with alice\'s full JID');
  bob.sendMessage(jid('alice'), toAlice);
  await alice.waitForMessage({ from: jid('bob'), body: toAlice });

  const burst = Array.from({ length: 20 }, (_, i) => `burst ${i}`);
  for (const body of burst) alice.sendMessage(jid('bob'), body);
  await bob.waitForMessage({ from: jid('alice'), body: burst[burst.length - 1] });
  const received = bob.messages.filter((m) => m.body && m.body.startsWith('burst ')).map((m) => m.body);
  assert.deepEqual(received, burst);
}

/**
 * Every user sends its partner (clients 2j and 2j+1) message n ("NAME #n",
 * n = 1, 2, ...) every 100 ms until stop(). sent[name] is the last n sent by
 * `name`; sentAt(name, since) counts those sent from `since` (ms) on.
 */
function startChatter(clients, jid) {
  const sent = {};
  const times = {};
  for (const c of clients) {
    sent[c.name] = 0;
    times[c.name] = [];
  }
  const timer = setInterval(() => {
    for (const [i, c] of clients.entries()) {
      const partner = clients[i ^ 1];
      const n = ++sent[c.name];
      times[c.name].push(Date.now());
      c.sendMessage(jid(partner.name), `${c.name} #${n}`);
    }
  }, 100);
  return {
    sent,
    sentAt: (name, since, until = Infinity) => times[name].filter((t) => t >= since && t < until).length,
    stop: () => clearInterval(timer),
  };
}

/** The numbers of the chat messages `client` got from `from`, in order of arrival. */
function numbersFrom(client, from, jid) {
  return client.messages
    .filter((m) => m.from.startsWith(`${jid(from)}/`) && m.type === 'chat' && m.body !== null)
    .map((m) => {
      const match = new RegExp(`^${from} #(\\d+)$`).exec(m.body);
      return match ? Number(match[1]) : m.body;
    });
}

module.exports = { dependentSteps, expectGone, expectNotListed, exchangeMessages, startChatter, numbersFrom };
