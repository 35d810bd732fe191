'use strict';
// The chat scenario both server tests run (chat_prosody, chat_ejabberd): what a
// web chat does through a BOSH connection manager, checked end to end with a
// real client library and a real server.
//
//   1. alice, bob and carol log in over BOSH (SASL PLAIN + resource bind);
//   2. they send presence and see each other online;
//   3. alice and bob exchange messages both ways, with XML-special and
//      non-ASCII text, and an IQ round trip (ping) between full JIDs;
//   4. each one's roster lists the others;
//   5. alice logs out (BOSH terminate): bob sees her unavailable presence and
//      the server no longer routes to her resource;
//   6. bob goes silent without logging out: the connection manager ends his
//      session after `inactivity` seconds, carol (the observer) sees his
//      unavailable presence and the server no longer routes to him.
//
// The steps share one server and depend on each other, so after a failure the
// rest are skipped, and a failing step's error carries the server and
// Switchboard logs.

const assert = require('node:assert/strict');
const { describe, before, after } = require('node:test');
const { startStack } = require('./stack');
const { XmppClient } = require('./strophe_client');
const { dependentSteps, expectGone, expectNotListed, exchangeMessages } = require('./chat_checks');

const INACTIVITY = 5; // seconds; Switchboard's `--set inactivity=5`
const WAIT = 10; // BOSH wait the clients ask for, in seconds

function defineChatScenario(serverKind) {
  describe(`chat over BOSH with ${serverKind}`, { timeout: 150000 }, () => {
    let stack;
    const jid = (user) => `${user}@localhost`;
    const clients = {};

    // Each step fails with the logs attached, and is skipped after a failure.
    const step = dependentSteps(() => stack, (s) => `BOSH via ${s.via} at ${s.boshUrl}`);

    before(async () => {
      stack = await startStack({
        server: serverKind,
        users: { alice: 'alice', bob: 'bob', carol: 'carol' },
        friends: ['alice', 'bob', 'carol'],
        settings: { inactivity: INACTIVITY },
      });
      for (const name of ['alice', 'bob', 'carol']) clients[name] = new XmppClient(stack.boshUrl, { name, wait: WAIT });
    });

    after(async () => {
      for (const client of Object.values(clients)) await client.close();
      if (stack) await stack.stop();
    });

    step('alice, bob and carol log in (SASL PLAIN + bind)', async () => {
      const { alice, bob, carol } = clients;
      await Promise.all([alice.connect(jid('alice'), 'alice'), bob.connect(jid('bob'), 'bob'), carol.connect(jid('carol'), 'carol')]);
      for (const [name, client] of Object.entries(clients)) {
        assert.match(client.jid, new RegExp(`^${name}@localhost/.+`), `${name} got a bound full JID`);
      }
    });

    step('presence: everyone sees the others online', async () => {
      const { alice, bob, carol } = clients;
      for (const client of [alice, bob, carol]) client.sendPresence();
      await Promise.all([
        alice.waitForPresence({ from: jid('bob') }),
        bob.waitForPresence({ from: jid('alice') }),
        carol.waitForPresence({ from: jid('alice') }),
        carol.waitForPresence({ from: jid('bob') }),
      ]);
    });

    step('messages go both ways, text intact', async () => {
      const { alice, bob } = clients;
      await exchangeMessages(alice, bob, jid);
    });

    step('IQ round trip between full JIDs (ping)', async () => {
      const { alice, bob } = clients;
      assert.equal(await alice.ping(bob.jid), 'result');
      assert.equal(await bob.ping(alice.jid), 'result');
    });

    step('rosters list the other users', async () => {
      for (const [name, client] of Object.entries(clients)) {
        const roster = await client.getRoster();
        const others = Object.keys(clients).filter((n) => n !== name);
        for (const other of others) {
          const item = roster.find((i) => i.jid === jid(other));
          assert.ok(item, `${name}'s roster has ${other}: ${JSON.stringify(roster)}`);
          assert.equal(item.subscription, 'both');
        }
      }
    });

    step('alice logs out: bob sees her go, the server dropped her session', async (t) => {
      const { alice, bob } = clients;
      const aliceJid = alice.jid;
      const since = Date.now();
      await alice.disconnect();
      await bob.waitForPresence({ from: jid('alice'), type: 'unavailable', after: since });
      await expectGone(bob, aliceJid);
      await expectNotListed(stack.server, aliceJid);
      t.diagnostic(`alice gone ${Date.now() - since} ms after logout`);
    });

    step(`bob goes silent: his session ends by inactivity (${INACTIVITY} s)`, async (t) => {
      const { bob, carol } = clients;
      const bobJid = bob.jid;
      assert.equal(await carol.ping(bobJid), 'result', 'bob answers before he goes silent');
      const since = Date.now();
      bob.freeze();
      const gone = await carol.waitForPresence({ from: jid('bob'), type: 'unavailable', after: since },
        { timeoutMs: (WAIT + INACTIVITY + 20) * 1000 });
      const seconds = (gone.at - since) / 1000;
      t.diagnostic(`bob's unavailable presence reached carol ${seconds.toFixed(1)} s after he went silent`);
      // Ended by inactivity: not the moment his long poll's TCP connection
      // dropped (clients lose connections; that alone must not end a session).
      assert.ok(seconds >= INACTIVITY - 1, `session ended after only ${seconds} s`);
      await expectGone(carol, bobJid);
      await expectNotListed(stack.server, bobJid);
    });

    step('carol logs out cleanly', async () => {
      await clients.carol.disconnect();
    });
  });
}

module.exports = { defineChatScenario };
