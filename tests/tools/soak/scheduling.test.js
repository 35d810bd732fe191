'use strict';
// switchboard-soak's request scheduling, checked by a scripted BOSH server that
// watches every request (label `tools`). The server plays just enough XEP-0206 to
// log sessions in and route chat messages between them, holds requests like a
// connection manager with hold=1, requests=2, and checks what Strophe.js would do:
//   - never more than `requests` requests of a session outstanding;
//   - an empty poll only when nothing else of that session is outstanding;
//   - a request whose connection was cut comes again with the same rid and the
//     same body (and gets the answer already sent, if there was one);
//   - rids increase by one without gaps (two connections may deliver n+1 before
//     n, as XEP-0124 allows; the server then processes them in order).
// And from the generator's own report: one socket per idle session. With
// --client strophe (the default), Strophe's backoff: a request cut twice comes a
// third time only min(floor(1.1 * wait), 2^3) s later, and newer rids go out
// beside it meanwhile.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');
const { runSoak } = require(path.join(__dirname, '..', 'lib', 'run_soak'));


const NS = "xmlns='http://jabber.org/protocol/httpbind'";

/** A scripted BOSH connection manager and XMPP server in one, on a free port. */
function scriptedServer({ waitMs = 2000 } = {}) {
  const sessions = new Map();   // sid -> session
  const every = [];             // every session ever created, ended ones too
  const byJid = new Map();      // full JID -> session
  const violations = [];
  let counter = 0;

  const answer = (s, pending, payload) => {
    const body = `<body ${NS} xmlns:stream='http://etherx.jabber.org/streams'>${payload}</body>`;
    s.answers.set(pending.rid, body);
    pending.answered = true;
    if (!pending.res.destroyed) pending.res.end(body);
  };

  // hold=1: answer held requests (oldest first) while more than one is held or
  // something is queued for the client.
  const flush = (s) => {
    s.held.sort((a, b) => a.rid - b.rid);
    while (s.held.length > 1 || (s.held.length > 0 && s.queue.length > 0)) {
      const p = s.held.shift();
      answer(s, p, s.queue.splice(0).join(''));
    }
  };

  const server = http.createServer({ keepAliveTimeout: 60000 }, (req, res) => {
    let data = '';
    req.on('data', (d) => { data += d; });
    req.on('end', () => {
      res.setHeader('Content-Type', 'text/xml; charset=utf-8');
      const sid = attrOf(data, 'sid');
      const s = sid && sessions.get(sid);
      const rid = Number(attrOf(data, 'rid'));
      // When each copy of each rid arrived, and in what order (for the backoff test).
      if (s) {
        if (!s.arrivals.has(rid)) s.arrivals.set(rid, []);
        s.arrivals.get(rid).push(Date.now());
        s.order.push(rid);
      }
      // Two connections may deliver rid n+1 before n (XEP-0124 allows it): like a
      // connection manager, process requests in rid order.
      if (s && !s.bodies.has(rid) && rid > s.next) {
        if (rid > s.next + 1) violations.push(`${sid}: rid ${rid} while ${s.next} is expected`);
        s.early.set(rid, { data, res });
        return;
      }
      handle(data, res);
      while (s && s.early.has(s.next)) {
        const e = s.early.get(s.next);
        s.early.delete(s.next);
        handle(e.data, e.res);
      }
    });
  });

  const attrOf = (data, name) => { const m = new RegExp(`\\s${name}='([^']*)'`).exec(data); return m ? m[1] : null; };

  function handle(data, res) {
    {
      const attr = (name) => attrOf(data, name);
      const rid = Number(attr('rid'));
      const sid = attr('sid');
      if (!sid) {
        const s = { sid: `s${++counter}`, next: rid + 1, held: [], queue: [], answers: new Map(), bodies: new Map(), early: new Map(), jid: null,
          arrivals: new Map(), order: [] };
        sessions.set(s.sid, s);
        every.push(s);
        const body = `<body ${NS} xmlns:stream='http://etherx.jabber.org/streams' sid='${s.sid}' wait='${waitMs / 1000}' hold='1' requests='2' ver='1.6' from='localhost'>` +
          "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features></body>";
        res.end(body);
        return;
      }
      const s = sessions.get(sid);
      if (!s) { res.statusCode = 404; res.end(); return; }
      if (s.bodies.has(rid)) {
        // A resend: same body, and the answer already given if there was one.
        if (s.bodies.get(rid) !== data) violations.push(`rid ${rid} resent with another body`);
        s.resends = (s.resends || 0) + 1;
        if (s.answers.has(rid)) { res.end(s.answers.get(rid)); return; }
        // Still held (its first connection was cut): the answer goes to the new one.
        const old = s.held.find((p) => p.rid === rid);
        if (old) { old.res = res; flush(s); return; }
      } else {
        if (rid !== s.next) violations.push(`${sid}: rid ${rid}, expected ${s.next}`);
        s.next = rid + 1;
        s.bodies.set(rid, data);
        const payload = data.replace(/^<body[^>]*?(\/>|>)/, '').replace(/<\/body>$/, '');
        const outstanding = s.held.filter((p) => !p.answered).length;
        if (outstanding + 1 > 2 && !/type='terminate'/.test(data)) violations.push(`${sid}: ${outstanding + 1} requests outstanding`);
        if (payload === '' && !/xmpp:restart/.test(data) && outstanding > 0) violations.push(`${sid}: empty poll rid ${rid} beside ${outstanding} outstanding`);
        if (/<auth /.test(payload)) s.queue.push("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        if (/xmpp:restart='true'/.test(data)) {
          s.queue.push("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session></stream:features>");
        }
        if (/id='bind_1'/.test(payload)) {
          s.jid = `u${counter}@localhost/soak-${s.sid}`;
          byJid.set(s.jid, s);
          s.queue.push(`<iq xmlns='jabber:client' type='result' id='bind_1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>${s.jid}</jid></bind></iq>`);
        }
        for (const m of payload.matchAll(/<message[^>]* to='([^']*)'[^>]*>.*?<\/message>/g)) {
          const to = byJid.get(m[1]);
          if (to) { to.queue.push(m[0].replace(' to=', ` from='${s.jid}' to=`)); if (to !== s) flush(to); }
        }
        if (/type='terminate'/.test(data)) {
          for (const p of s.held.splice(0)) answer(s, p, '');
          answer(s, { rid, res }, '');
          sessions.delete(sid);
          return;
        }
      }
      const pending = { rid, res, answered: false };
      s.held.push(pending);
      // The wait: an unanswered request is answered empty after waitMs.
      setTimeout(() => {
        const i = s.held.indexOf(pending);
        if (i >= 0) { s.held.splice(i, 1); answer(s, pending, s.queue.splice(0).join('')); }
      }, waitMs);
      // A connection cut before the answer changes nothing here: the request stays
      // held (answers go to the oldest rid first) and the client's resend of that
      // rid takes its place, or gets its answer if it was given meanwhile.
      flush(s);
    }
  }
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, violations, sessions, every, url: `http://127.0.0.1:${server.address().port}/http-bind` }));
  });
}


const SESSIONS = Number(process.env.SCHED_SESSIONS || 10);
const common = ['--password', 'p%d', '--sessions', String(SESSIONS), '--rate', '50', '--wait', '2'];

test('Strophe-like scheduling: at most 2 outstanding, empty polls only when idle, rids in sequence', async () => {
  const s = await scriptedServer();
  try {
    const run = await runSoak(['--url', s.url, ...common, '--duration', '4', '--msg-rate', '50', '--conn-idle', '300'], { timeoutMs: 30000, quiet: true });
    assert.ok(run.report, run.output);
    assert.deepEqual(s.violations, []);
    assert.equal(run.report.sessions_established, SESSIONS, run.output);
    assert.ok(run.report.messages_sent > 100, run.output);
    assert.equal(run.report.messages_received, run.report.messages_sent, run.output);
    assert.equal(run.report.errors, 0, run.output);
    assert.equal(run.status, 0, run.output);
  } finally {
    s.server.closeAllConnections();
    s.server.close();
  }
});

test('--drop: a cut request comes again with the same rid and body, and nothing is lost', async () => {
  const s = await scriptedServer();
  try {
    const run = await runSoak(['--url', s.url, ...common, '--duration', '5', '--msg-rate', '50', '--drop', process.env.SCHED_DROP || '0.1'], { timeoutMs: 30000, quiet: true });
    assert.ok(run.report, run.output);
    assert.deepEqual(s.violations.filter((v) => !/outstanding/.test(v)), []);  // a cut's close may reach us late
    assert.ok(run.report.drops > 5, run.output);
    assert.ok(run.report.resends >= run.report.drops);
    assert.equal(run.report.messages_lost, 0, run.output);
    assert.equal(run.report.messages_duplicated, 0, run.output);
    assert.equal(run.report.messages_reordered, 0, run.output);
    assert.equal(run.status, 0, run.output);
  } finally {
    s.server.closeAllConnections();
    s.server.close();
  }
});

test("--client strophe: a request cut twice comes again only after Strophe's backoff, newer rids overtake it", async () => {
  const s = await scriptedServer();
  try {
    const run = await runSoak(['--url', s.url, ...common, '--duration', '6', '--msg-rate', '50', '--drop', '0.3',
      '--max-errors', '1000'], { timeoutMs: 40000, quiet: true });
    assert.ok(run.report, run.output);
    assert.equal(run.report.options.client, 'strophe');
    assert.ok(run.report.drops > 20, run.output);
    // wait 2: the backoff after a request's second failure is min(floor(2.2), 8) = 2 s.
    let thrice = 0;
    let overtaken = 0;
    for (const session of s.every) {
      for (const [rid, times] of session.arrivals) {
        if (times.length < 3) continue;
        thrice++;
        // Every copy from the third on left at least 2 s after the one before it failed.
        for (let k = 2; k < times.length; k++) {
          assert.ok(times[k] - times[k - 1] >= 1900, `rid ${rid}: copies at ${times.map((t) => t - times[0])} ms`);
        }
        // Meanwhile a newer rid of the session reached the server.
        const second = session.order.indexOf(rid, session.order.indexOf(rid) + 1);
        const third = session.order.indexOf(rid, second + 1);
        if (session.order.slice(second + 1, third).some((r) => r > rid)) overtaken++;
      }
    }
    assert.ok(thrice > 0, `no request was sent three times (drops ${run.report.drops})`);
    assert.ok(overtaken > 0, `no newer rid went out while a request waited for its backoff (${thrice} such requests)`);
  } finally {
    s.server.closeAllConnections();
    s.server.close();
  }
});

test('an idle session holds one socket (the spare connection closes)', async () => {
  const s = await scriptedServer();
  try {
    const run = await runSoak(['--url', s.url, ...common, '--duration', '3', '--conn-idle', '300'], { timeoutMs: 30000, quiet: true });
    assert.ok(run.report, run.output);
    assert.equal(run.report.generator.sessions_measured, SESSIONS, run.output);
    assert.equal(run.report.generator.fds_per_session, 1, run.output);
  } finally {
    s.server.closeAllConnections();
    s.server.close();
  }
});
