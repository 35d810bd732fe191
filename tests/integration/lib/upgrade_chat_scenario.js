'use strict';
// The upgrade-in-place scenario both server tests run (upgrade_ejabberd,
// upgrade_prosody): web chat users over BOSH and over WebSocket must notice
// nothing when the connection manager is replaced under them (SIGUSR2; with
// `workers` 1, the lone daemon hands itself over; with more, every worker to its
// successor of the same index, docs/upgrade.md).
//
//   1. three pairs of Strophe.js users log in, in each pair one over BOSH and
//      one over WebSocket, and see their partner online;
//   2. every user sends its partner a numbered message every 100 ms; a few
//      seconds in, switchboard upgrades in place (tests/lib/switchboard.js
//      upgrade()); the chat goes on for a few seconds with the new daemon.
//      Every session moved; no client left CONNECTED, changed its sid, hit an
//      HTTP error, resent a request or lost a TCP connection; every numbered
//      message arrived exactly once and in order; the old daemon is gone;
//   3. after the upgrade IQs still go round, and everyone logs out through the
//      new daemon: the server sees each session go.
//
// The steps share one server and depend on each other, so after a failure the
// rest are skipped, and a failing step's error carries the server and
// Switchboard logs.

const assert = require('node:assert/strict');
const { describe, before, after } = require('node:test');
const { startStack } = require('./stack');
const { XmppClient } = require('./strophe_client');
const { dependentSteps, expectGone, expectNotListed, startChatter, numbersFrom } = require('./chat_checks');
const { processGone } = require('../../lib/switchboard');
const { sleep } = require('../../lib/proc');

const PAIRS = 3;
const BEFORE_MS = 3000;   // chatting before the upgrade is asked for
const AFTER_MS = 4000;    // and after the old daemon has gone
const WAIT = 10;          // BOSH wait: a held request spans the upgrade

function defineUpgradeChatScenario(serverKind, { workers = 1 } = {}) {
  describe(`an upgrade in place (workers = ${workers}) while users chat over BOSH and WebSocket with ${serverKind}`, { timeout: 120000 }, () => {
    let stack;
    const jid = (user) => `${user}@localhost`;
    const names = Array.from({ length: 2 * PAIRS }, (_, i) => `u${i + 1}`);
    const clients = [];
    const sids = {};
    const statusesAtLogin = {};

    const step = dependentSteps(() => stack, (s) => `BOSH via ${s.via} at ${s.boshUrl}`);

    before(async () => {
      stack = await startStack({
        server: serverKind,
        users: Object.fromEntries(names.map((n) => [n, `pw-${n}`])),
        settings: { workers },
      });
      for (let j = 0; j < PAIRS; j++) await stack.server.befriend([names[2 * j], names[2 * j + 1]]);
      // In each pair the first user speaks BOSH, the second WebSocket.
      for (const [i, name] of names.entries()) {
        const url = i % 2 === 0 || !stack.wsUrl ? stack.boshUrl : stack.wsUrl;  // SB_DIRECT: no WebSocket
        clients.push(new XmppClient(url, { name, wait: WAIT }));
      }
    });

    after(async () => {
      for (const client of clients) await client.close();
      if (stack) await stack.stop();
    });

    step(`${2 * PAIRS} users log in (BOSH and WebSocket) and see their partner online`, async (t) => {
      if (stack.direct) return t.skip('SB_DIRECT=1: an upgrade in place is switchboard\'s');
      await Promise.all(clients.map((c) => c.connect(jid(c.name), `pw-${c.name}`)));
      for (const c of clients) c.sendPresence();
      await Promise.all(clients.map((c, i) => c.waitForPresence({ from: jid(clients[i ^ 1].name) })));
      for (const c of clients) {
        if (!c.websocket) assert.ok(c.sid, `${c.name} has a BOSH sid`);
        sids[c.name] = c.sid;
        statusesAtLogin[c.name] = c.statuses.length;
      }
    });

    step('they chat both ways through an upgrade in place and notice nothing', async (t) => {
      if (stack.direct) return t.skip('SB_DIRECT=1: an upgrade in place is switchboard\'s');
      const sb = stack.switchboard;
      const tcpClosed = Object.fromEntries(clients.map((c) => [c.name, c.tcpClosed]));
      const tcpOpened = clients.reduce((n, c) => n + c.tcpOpened, 0);
      const chatter = startChatter(clients, jid);
      let upgrade;
      let asked;
      let done;
      try {
        await sleep(BEFORE_MS);
        asked = Date.now();
        upgrade = await sb.upgrade();
        done = Date.now();
        await sleep(AFTER_MS);
      } finally {
        chatter.stop();
      }
      t.diagnostic(`${upgrade.line}; the old daemon gone ${done - asked} ms after SIGUSR2`);

      // Every numbered message arrives, in the time a slow round trip takes.
      const complete = () => clients.every((c, i) => {
        const got = numbersFrom(clients[i ^ 1], c.name, jid);
        return got.length >= chatter.sent[c.name];
      });
      const deadline = Date.now() + 10000;
      while (!complete() && Date.now() < deadline) await sleep(50);

      // The daemon's side: every session moved, none ended, the old one is gone.
      assert.notEqual(upgrade.newPid, upgrade.oldPid);
      assert.equal(upgrade.moved, clients.length, `every session moved: ${upgrade.line}`);
      assert.match(upgrade.line, /, 0 ended \(none\),/);
      assert.ok(processGone(upgrade.oldPid), `the old daemon (pid ${upgrade.oldPid}) exited`);
      assert.ok(!processGone(upgrade.newPid), `the new daemon (pid ${upgrade.newPid}) runs`);
      assert.equal(sb.pid, upgrade.newPid);

      // The users' side: the same session on the same connections, no error.
      for (const c of clients) {
        assert.deepEqual(c.statuses.slice(statusesAtLogin[c.name]), [],
          `${c.name} stayed CONNECTED (statuses after login: ${c.statuses.join(', ')})`);
        assert.ok(c.conn.connected, `${c.name} is connected`);
        assert.equal(c.sid, sids[c.name], `${c.name} kept its sid`);
        assert.deepEqual(c.httpErrors, {}, `${c.name} saw no HTTP error`);
        assert.equal(c.resends, 0, `${c.name} resent no request`);
        assert.equal(c.tcpClosed, tcpClosed[c.name], `${c.name} lost none of its TCP connections`);
        assert.deepEqual(c.messages.filter((m) => m.type === 'error'), [], `${c.name} got no error bounce`);
      }
      // Every numbered message exactly once, in order; some sent before, during
      // and after the upgrade.
      let total = 0;
      for (const [i, c] of clients.entries()) {
        const partner = clients[i ^ 1];
        const expected = Array.from({ length: chatter.sent[c.name] }, (_, k) => k + 1);
        assert.deepEqual(numbersFrom(partner, c.name, jid), expected, `${c.name}'s messages at ${partner.name}`);
        assert.ok(chatter.sentAt(c.name, 0, asked) > 0 && chatter.sentAt(c.name, done) > 0,
          `${c.name} chatted before and after the upgrade`);
        total += expected.length;
      }
      const during = clients.reduce((n, c) => n + chatter.sentAt(c.name, asked, done), 0);
      t.diagnostic(`${total} messages, each arrived once and in order; ${during} sent while the upgrade ran; ` +
        `${clients.reduce((n, c) => n + c.tcpOpened, 0) - tcpOpened} TCP connections opened while chatting`);
    });

    step('after the upgrade IQs go round and everyone logs out: the server sees them go', async (t) => {
      if (stack.direct) return t.skip('SB_DIRECT=1: an upgrade in place is switchboard\'s');
      for (const [i, c] of clients.entries()) assert.equal(await c.ping(clients[i ^ 1].jid), 'result');
      const fullJids = clients.map((c) => c.jid);
      await Promise.all(clients.map((c) => c.disconnect()));
      for (const fullJid of fullJids) await expectNotListed(stack.server, fullJid);
      // Prosody lists nothing: a ping from a fresh session says the resources are gone.
      const witness = new XmppClient(stack.boshUrl, { name: 'witness', wait: WAIT });
      try {
        await witness.connect(jid(names[0]), `pw-${names[0]}`);
        for (const fullJid of fullJids) await expectGone(witness, fullJid);
      } finally {
        await witness.close();
      }
    });
  });
}

module.exports = { defineUpgradeChatScenario };
