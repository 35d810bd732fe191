'use strict';
// A group of real Strophe.js 5 clients (strophe_client.js: Node, xhr2, one
// keep-alive HTTP agent per client as separate browsers have) chatting in pairs
// over BOSH, with the soak's accounting, so that a run of real clients and a run
// of switchboard-soak can be compared figure by figure (bench/flaky_strophe.js).
//
// What it does, as switchboard-soak does it (docs/soak.md):
// - logs in `users` clients (user(i) / password(i), i = first..first+users-1) at
//   `rate` per second, each sending its initial presence once connected;
// - message k is due at k / msgRate s from the first login; it goes from a random
//   online client to its partner (clients 2j and 2j+1) when that one is online
//   too, else the slot is skipped; a message is "sent" when Strophe's send() takes
//   it. Bodies carry sender, receiver and a sequence number;
// - after `durationS`, no more messages; up to `drainS` s for those in flight;
//   then every client still connected logs out.
// Strophe's own scheduling is left alone: its idle loop (100 ms), at most two
// requests outstanding, the same rid resent after an error (at once, then after
// min(1.1 * wait, n^3) s), giving up at the 5th error in a row, a held request
// given up and resent after 1.1 * wait s.
//
// The report: sessions established; sessions ended early and why (`terminate:COND`
// when the server's terminate ended it, `gave_up` when Strophe's error count did,
// CONNTIMEOUT; `disconnected` otherwise); messages sent, received (first copies),
// lost, duplicated, reordered; the HTTP errors Strophe counted (_hitError, by
// status: 0 is a network error) and the requests it resent.

const { Strophe } = require('strophe.js');
const { XmppClient } = require('./strophe_client');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function runStrophePairs({
  url, domain = 'localhost', users = 20, first = 1, user = (i) => `u${i}`, password = (i) => `p${i}`,
  rate = 40, msgRate = 40, durationS = 30, drainS = 10, wait = 10, log = () => {},
}) {
  const clients = [];
  const online = new Set();
  const ended = {};            // reason -> count
  const sent = new Map();      // "from:to" -> highest seq sent
  const got = new Map();       // "from:to" -> { highest, seen: Set }
  let received = 0;
  let duplicated = 0;
  let reordered = 0;
  let foreign = 0;
  let echoed = 0;
  let established = 0;
  let loginFailures = 0;
  const loginErrors = {};

  const countEnd = (why) => { ended[why] = (ended[why] || 0) + 1; };

  function onMessage(c, stanza) {
    const body = stanza.getElementsByTagName('body')[0]?.textContent;
    const m = /^fs:(\d+):(\d+):(\d+)$/.exec(body || '');
    if (m && Number(m[1]) === c.index) { echoed++; return true; }  // its own message, back
    if (!m || Number(m[2]) !== c.index) { foreign++; return true; }
    const key = `${m[1]}:${m[2]}`;
    const seq = Number(m[3]);
    let g = got.get(key);
    if (!g) { g = { highest: 0, seen: new Set() }; got.set(key, g); }
    if (g.seen.has(seq)) { duplicated++; return true; }
    g.seen.add(seq);
    received++;
    if (seq < g.highest) reordered++;
    g.highest = Math.max(g.highest, seq);
    return true;
  }

  function makeClient(index) {
    const c = new XmppClient(url, { name: user(first + index), wait });
    c.index = index;
    c.ended = null;
    c.conn.addHandler((stanza) => onMessage(c, stanza), null, 'message', 'chat');
    return c;
  }

  for (let i = 0; i < users; i++) clients.push(makeClient(i));

  // Status changes after login: who ended the session.
  function watch(c) {
    const connectCb = c.conn.connect_callback;
    c.conn.connect_callback = (status, condition) => {
      if (connectCb) connectCb(status, condition);
      if (c.ended || c.loggingOut) return;
      if (status === Strophe.Status.CONNFAIL) c.ended = condition ? `terminate:${condition}` : 'connfail';
      else if (status === Strophe.Status.CONNTIMEOUT) c.ended = 'gave_up';
      else if (status === Strophe.Status.DISCONNECTED) c.ended = 'disconnected';
      if (c.ended) {
        online.delete(c.index);
        countEnd(c.ended);
        log(`${c.name}: ended (${c.ended})`);
      }
    };
  }

  const t0 = Date.now();
  const logins = clients.map(async (c, i) => {
    await sleep(Math.max(0, t0 + (i * 1000) / rate - Date.now()));
    try {
      await c.connect(`${user(first + i)}@${domain}`, password(first + i), { timeoutMs: 60000 });
      established++;
      watch(c);
      c.sendPresence();
      online.add(i);
    } catch (err) {
      loginFailures++;
      const why = err.message.replace(/^[^:]*: /, '');
      loginErrors[why] = (loginErrors[why] || 0) + 1;
      c.ended = 'login_failed';
    }
  });

  // Messages: open-loop slots from the first login, as the soak does.
  let slot = 0;
  let sentCount = 0;
  const runEnd = t0 + durationS * 1000;
  await new Promise((resolve) => {
    const tick = () => {
      const now = Date.now();
      while (msgRate > 0 && t0 + ((slot + 1) * 1000) / msgRate <= Math.min(now, runEnd)) {
        slot++;
        const list = [...online];
        if (list.length < 2) continue;
        for (let attempt = 0; attempt < 8; attempt++) {
          const from = list[Math.floor(Math.random() * list.length)];
          const to = from ^ 1;
          if (!online.has(to)) continue;
          const key = `${from}:${to}`;
          const seq = (sent.get(key) || 0) + 1;
          sent.set(key, seq);
          sentCount++;
          clients[from].sendMessage(clients[to].jid, `fs:${from}:${to}:${seq}`);
          break;
        }
      }
      if (now >= runEnd) resolve();
      else setTimeout(tick, 10);
    };
    tick();
  });
  await Promise.all(logins);

  // Drain: until every message sent has arrived, or drainS.
  const drainEnd = Date.now() + drainS * 1000;
  while (received < sentCount && Date.now() < drainEnd) await sleep(100);

  const stillOnline = clients.filter((c) => !c.ended && c.conn.connected);
  await Promise.all(stillOnline.map(async (c) => {
    c.loggingOut = true;
    await c.disconnect({ timeoutMs: 5000 }).catch(() => {});
  }));
  for (const c of clients) {
    try { c.freeze(); } catch { /* best effort */ }
  }

  const endedEarly = Object.values(ended).reduce((a, b) => a + b, 0);
  // Each client counts its own HTTP errors and resends (strophe_client.js).
  const httpErrors = {};       // status -> count (Strophe's _hitError)
  let resends = 0;
  for (const c of clients) {
    for (const [status, count] of Object.entries(c.httpErrors)) httpErrors[status] = (httpErrors[status] || 0) + count;
    resends += c.resends;
  }
  return {
    client: 'strophe.js 5.0.0',
    sessions_target: users,
    sessions_established: established,
    login_failures: loginFailures,
    login_errors: loginErrors,
    sessions_ended: endedEarly,
    ended_by: ended,
    messages_sent: sentCount,
    messages_received: received,
    messages_lost: sentCount - received,
    messages_duplicated: duplicated,
    messages_reordered: reordered,
    messages_echoed: echoed,
    foreign_messages: foreign,
    http_errors: httpErrors,
    resends,
  };
}

module.exports = { runStrophePairs };
