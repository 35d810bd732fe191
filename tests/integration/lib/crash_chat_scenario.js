'use strict';
// The crash scenario both server tests run (crash_ejabberd, crash_prosody): web
// chat users over BOSH and over WebSocket must not notice when the worker
// process that holds their sessions is killed with SIGKILL (docs/crash.md).
// Switchboard runs two workers, each with its keeper.
//
//   1. pairs of Strophe.js users log in, in each pair one over BOSH and one
//      over WebSocket, and see their partner online; each worker holds some
//      of them;
//   2. every user sends its partner a numbered message every 100 ms; a few
//      seconds in, worker 0 is killed with SIGKILL; its successor takes up its
//      sessions from the keeper and the chat goes on for a few seconds. No
//      client left CONNECTED or changed its sid; every numbered message arrived
//      exactly once and in order; the XMPP server never saw a session go. The
//      BOSH users of the dead worker had their held requests fail with its
//      connections and resent them (same rid), which is all they noticed; the
//      WebSocket users noticed nothing (their connections were kept);
//   3. after the kill IQs still go round, and everyone logs out: the server sees
//      each session go.
//
// The steps share one server and depend on each other, so after a failure the
// rest are skipped, and a failing step's error carries the server and
// Switchboard logs.

const assert = require('node:assert/strict');
const path = require('node:path');
const { describe, before, after } = require('node:test');
const { startStack } = require('./stack');
const { XmppClient } = require('./strophe_client');
const { dependentSteps, expectGone, expectNotListed, startChatter, numbersFrom } = require('./chat_checks');
const { workerProcesses, processAlive } = require('./worker_procs');
const { sleep, waitUntil } = require('../../lib/proc');

const PAIRS = 3;
const BEFORE_MS = 3000;   // chatting before the kill
const AFTER_MS = 4000;    // and after the worker is back
const WAIT = 10;          // BOSH wait
const VICTIM = 0;         // the worker index killed
const workerOf = (sid) => Number(/^w(\d+)\./.exec(sid)[1]);

function defineCrashChatScenario(serverKind) {
  describe(`a worker killed with SIGKILL while users chat over BOSH and WebSocket with ${serverKind}`, { timeout: 120000 }, () => {
    let stack;
    const jid = (user) => `${user}@localhost`;
    const clients = [];
    const sids = {};
    const statusesAtLogin = {};

    const step = dependentSteps(() => stack, (s) => `BOSH via ${s.via} at ${s.boshUrl}`);

    before(async () => {
      const names = Array.from({ length: 2 * PAIRS }, (_, i) => `u${i + 1}`);
      stack = await startStack({
        server: serverKind,
        users: Object.fromEntries(names.map((n) => [n, `pw-${n}`])),
        settings: { workers: 2 },
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

    step(`${2 * PAIRS} users log in (BOSH and WebSocket) and see their partner online, on both workers`, async (t) => {
      if (stack.direct) return t.skip('SB_DIRECT=1: a worker is switchboard\'s');
      await Promise.all(clients.map((c) => c.connect(jid(c.name), `pw-${c.name}`)));
      for (const c of clients) c.sendPresence();
      await Promise.all(clients.map((c, i) => c.waitForPresence({ from: jid(clients[i ^ 1].name) })));
      for (const c of clients) {
        sids[c.name] = c.sid;
        statusesAtLogin[c.name] = c.statuses.length;
      }
      // Users with sessions on the victim are what this is about; with three
      // BOSH users on two workers the chance that it has none of them is 1/4
      // (a WebSocket user's worker shows only in the recovery line's count).
      const onVictim = clients.filter((c) => !c.websocket && workerOf(c.sid) === VICTIM).length;
      t.diagnostic(`${onVictim} of ${PAIRS} BOSH sessions on worker ${VICTIM}`);
    });

    step(`they chat through worker ${VICTIM}'s death and notice nothing but resent requests`, async (t) => {
      if (stack.direct) return t.skip('SB_DIRECT=1: a worker is switchboard\'s');
      const sb = stack.switchboard;
      const victims = clients.filter((c) => !c.websocket && workerOf(c.sid) === VICTIM).map((c) => c.name);
      const chatter = startChatter(clients, jid);
      let line;
      try {
        await sleep(BEFORE_MS);
        const pid = workerProcesses(sb.child.pid).find((w) => w.index === VICTIM).pid;
        // The keeper logs what it hands to each new process of its slot (the
        // first, at start, had nothing).
        const handed = new RegExp(`\\[keeper ${VICTIM}\\] (\\d+) sessions handed`, 'g');
        const handedBefore = (sb.stderr().match(handed) || []).length;
        process.kill(pid, 'SIGKILL');
        await waitUntil(`worker ${VICTIM} gone`, () => !processAlive(pid));
        const text = await sb.waitForLog(handed, { count: handedBefore + 1, timeoutMs: 15000 });
        if (!/\] 0 sessions handed/.test(text.match(handed).pop())) {
          const found = await sb.waitForLog(/keeper: \d+ of \d+ sessions continue[^\n]*/);
          line = found.match(/keeper: \d+ of \d+ sessions continue[^\n]*/g).pop();
        }
        await sleep(AFTER_MS);
      } finally {
        chatter.stop();
      }
      if (line) t.diagnostic(line);
      const complete = () => clients.every((c, i) => numbersFrom(clients[i ^ 1], c.name, jid).length >= chatter.sent[c.name]);
      const deadline = Date.now() + 15000;
      while (!complete() && Date.now() < deadline) await sleep(50);

      // Every session the dead worker had continued: its BOSH users' and
      // (the rest of the count) its WebSocket users'.
      if (victims.length > 0) assert.ok(line, 'the restarted worker took sessions up');
      if (line) {
        const [, continued, kept] = /keeper: (\d+) of (\d+)/.exec(line);
        assert.equal(continued, kept, line);
        assert.ok(Number(kept) >= victims.length, line);
      }
      for (const c of clients) {
        assert.deepEqual(c.statuses.slice(statusesAtLogin[c.name]), [],
          `${c.name} stayed CONNECTED (statuses after login: ${c.statuses.join(', ')})`);
        assert.ok(c.conn.connected, `${c.name} is connected`);
        assert.equal(c.sid, sids[c.name], `${c.name} kept its sid`);
        assert.deepEqual(c.messages.filter((m) => m.type === 'error'), [], `${c.name} got no error bounce`);
        if (!victims.includes(c.name)) {  // the other worker's users, and every WebSocket user
          assert.deepEqual(c.httpErrors, {}, `${c.name} (${c.websocket ? 'WebSocket' : 'on the other worker'}) saw no HTTP error`);
          assert.equal(c.resends, 0, `${c.name} (${c.websocket ? 'WebSocket' : 'on the other worker'}) resent nothing`);
        }
      }
      let total = 0;
      for (const [i, c] of clients.entries()) {
        const partner = clients[i ^ 1];
        const expected = Array.from({ length: chatter.sent[c.name] }, (_, k) => k + 1);
        assert.deepEqual(numbersFrom(partner, c.name, jid), expected, `${c.name}'s messages at ${partner.name}`);
        total += expected.length;
      }
      const resent = clients.filter((c) => victims.includes(c.name)).map((c) => `${c.name} ${c.resends}`);
      t.diagnostic(`${total} messages, each arrived once and in order; resends on worker ${VICTIM}: ${resent.join(', ') || 'none'}`);
    });

    step('after the kill IQs go round and everyone logs out: the server sees them go', async (t) => {
      if (stack.direct) return t.skip('SB_DIRECT=1: a worker is switchboard\'s');
      for (const [i, c] of clients.entries()) assert.equal(await c.ping(clients[i ^ 1].jid), 'result');
      const fullJids = clients.map((c) => c.jid);
      await Promise.all(clients.map((c) => c.disconnect()));
      for (const fullJid of fullJids) await expectNotListed(stack.server, fullJid);
      const witness = new XmppClient(stack.boshUrl, { name: 'witness', wait: WAIT });
      try {
        await witness.connect(jid('u1'), 'pw-u1');
        for (const fullJid of fullJids) await expectGone(witness, fullJid);
      } finally {
        await witness.close();
      }
    });
  });
}

module.exports = { defineCrashChatScenario };
