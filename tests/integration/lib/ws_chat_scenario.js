'use strict';
// The chat scenario over XMPP over WebSocket (RFC 7395), run against both servers
// (chat_ws_prosody, chat_ws_ejabberd): Strophe.js in Node through switchboard's
// WebSocket path, with a BOSH client beside it on the same switchboard, the same
// upstream machinery serving both transports.
//
//   1. alice and bob log in over WebSocket, carol over BOSH (SASL PLAIN, the
//      stream restart, resource bind);
//   2. presence: everyone sees the others online;
//   3. alice and bob exchange messages both ways (XML-special and non-ASCII
//      text, a burst in order), alice and carol across the two transports, and
//      an IQ round trip (ping) between full JIDs;
//   4. alice logs out (<close/>): bob sees her unavailable presence and the
//      server no longer routes to her resource;
//   5. bob's connection dies without a close frame (TCP reset): switchboard
//      closes his server stream, carol sees him go and the server drops him.
//
// Steps depend on each other: after a failure the rest are skipped, and the
// failing step's error carries the server's and switchboard's logs.

const assert = require('node:assert/strict');
const { describe, before, after } = require('node:test');
const { startStack, direct } = require('./stack');
const { XmppClient } = require('./strophe_client');
const { sleep } = require('../../lib/proc');
const { dependentSteps, expectGone, expectNotListed, exchangeMessages } = require('./chat_checks');

function defineWsChatScenario(serverKind) {
  describe(`chat over WebSocket with ${serverKind}`, { timeout: 120000, skip: direct && 'switchboard only' }, () => {
    let stack;
    const jid = (user) => `${user}@localhost`;
    const clients = {};

    const step = dependentSteps(() => stack, (s) => `WebSocket at ${s.wsUrl}, BOSH at ${s.boshUrl}`);

    before(async () => {
      stack = await startStack({
        server: serverKind,
        users: { alice: 'alice', bob: 'bob', carol: 'carol' },
        friends: ['alice', 'bob', 'carol'],
      });
      clients.alice = new XmppClient(stack.wsUrl, { name: 'alice' });
      clients.bob = new XmppClient(stack.wsUrl, { name: 'bob' });
      clients.carol = new XmppClient(stack.boshUrl, { name: 'carol', wait: 10 });
    });

    after(async () => {
      for (const client of Object.values(clients)) await client.close();
      if (stack) await stack.stop();
    });

    step('alice and bob log in over WebSocket, carol over BOSH', async () => {
      const { alice, bob, carol } = clients;
      await Promise.all([alice.connect(jid('alice'), 'alice'), bob.connect(jid('bob'), 'bob'),
        carol.connect(jid('carol'), 'carol')]);
      for (const [name, client] of Object.entries(clients)) {
        assert.match(client.jid, new RegExp(`^${name}@localhost/.+`), `${name} got a bound full JID`);
      }
      assert.equal(alice.conn._proto.constructor.name.toLowerCase().includes('websocket'), true,
        'alice\'s Strophe speaks WebSocket');
      const log = stack.switchboard.logs();
      assert.equal((log.match(/session ws\d+\.\.\. created for localhost/g) || []).length, 2,
        `two WebSocket sessions in the log:\n${log}`);
    });

    step('presence: everyone sees the others online', async () => {
      const { alice, bob, carol } = clients;
      for (const client of [alice, bob, carol]) client.sendPresence();
      await Promise.all([
        alice.waitForPresence({ from: jid('bob') }),
        bob.waitForPresence({ from: jid('alice') }),
        carol.waitForPresence({ from: jid('alice') }),
        carol.waitForPresence({ from: jid('bob') }),
        alice.waitForPresence({ from: jid('carol') }),
      ]);
    });

    step('messages go both ways, text intact, across both transports', async () => {
      const { alice, bob, carol } = clients;
      await exchangeMessages(alice, bob, jid);

      alice.sendMessage(jid('carol'), 'websocket to bosh');
      await carol.waitForMessage({ from: jid('alice'), body: 'websocket to bosh' });
      carol.sendMessage(jid('alice'), 'bosh to websocket');
      await alice.waitForMessage({ from: jid('carol'), body: 'bosh to websocket' });
    });

    step('IQ round trip between full JIDs (ping)', async () => {
      const { alice, bob, carol } = clients;
      assert.equal(await alice.ping(bob.jid), 'result');
      assert.equal(await bob.ping(alice.jid), 'result');
      assert.equal(await carol.ping(alice.jid), 'result');
    });

    step('alice logs out: bob sees her go, the server dropped her session', async (t) => {
      const { alice, bob } = clients;
      const aliceJid = alice.jid;
      const since = Date.now();
      await alice.disconnect();
      await bob.waitForPresence({ from: jid('alice'), type: 'unavailable', after: since });
      await expectGone(bob, aliceJid);
      await expectNotListed(stack.server, aliceJid);
      await sleep(200);
      assert.match(stack.switchboard.logs(), /session ws\d+\.\.\. ended: client (close|close frame)/);
      t.diagnostic(`alice gone ${Date.now() - since} ms after logout`);
    });

    step('bob\'s connection dies without a close frame: his server stream is closed', async (t) => {
      const { bob, carol } = clients;
      const bobJid = bob.jid;
      const since = Date.now();
      bob.freeze();
      await carol.waitForPresence({ from: jid('bob'), type: 'unavailable', after: since });
      await expectGone(carol, bobJid);
      await expectNotListed(stack.server, bobJid);
      assert.match(stack.switchboard.logs(), /session ws\d+\.\.\. ended: client connection lost/);
      t.diagnostic(`bob gone ${Date.now() - since} ms after his connection died`);
    });
  });
}

module.exports = { defineWsChatScenario };
