'use strict';
// The well-behaved side of the hostile soak (hostile_soak.js): N logged-in
// BOSH sessions that chat in pairs while the hostile traffic runs, and the
// ledger that proves every message arrived exactly once.
//
// Each ChatSession is a LightBoshSession (tests/lib/bosh_light_client.js) that
// speaks like Strophe once logged in: hold=1, so at most two requests out; one
// empty request is always held; a message goes out at once in a second request
// (which releases the held one); a request that fails in transport is resent
// with the same rid. Sessions come from 127.0.0.2..127.0.0.9, spread evenly, so
// none of their addresses is anywhere near max_sessions_per_ip.
//
// Anything a good session sees other than ordinary 200 responses is an error:
// an HTTP error, a terminate, no response in wait + 15 s (even if the resend
// then worked), a bounced message, a message it did not expect or got twice.
// A message that never arrives is charged to its receiver.

const { LightBoshSession } = require('../lib/bosh_light_client');
const { inPool, percentile } = require('../lib/pool');

const GOOD_ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${2 + i}`);

/** Every chat message sent: id -> { from, to, sentAt, arrivals }. */
class Ledger {
  constructor() {
    this.messages = new Map();
    this.latencies = [];
    this.duplicates = 0;
    this.strangers = 0; // received ids never sent, or sent to someone else
  }

  sent(id, from, to) {
    this.messages.set(id, { from, to, sentAt: Date.now(), arrivals: 0 });
  }

  /** Returns an error text if this arrival is wrong, else null. */
  received(id, by) {
    const m = this.messages.get(id);
    if (!m || m.to !== by) {
      this.strangers++;
      return `message ${id} was not addressed to session ${by}`;
    }
    m.arrivals++;
    if (m.arrivals > 1) {
      this.duplicates++;
      return `message ${id} arrived ${m.arrivals} times`;
    }
    this.latencies.push(Date.now() - m.sentAt);
    return null;
  }

  get outstanding() {
    let n = 0;
    for (const m of this.messages.values()) if (m.arrivals === 0) n++;
    return n;
  }

  /** Messages never received, as [id, entry]. */
  lost() {
    return [...this.messages].filter(([, m]) => m.arrivals === 0);
  }
}

class ChatSession extends LightBoshSession {
  constructor(url, { index, ledger }) {
    // Strophe's profile: wait=60, hold=1; resend a failed request up to 5 times.
    super(url, { wait: 60, localAddress: GOOD_ADDRESSES[index % GOOD_ADDRESSES.length], retries: 5 });
    this.index = index;
    this.ledger = ledger;
    this.partner = null; // the ChatSession we send to
    this.outstanding = 0; // requests out, at most 2 (hold + 1)
    this.queue = []; // stanzas waiting for a request to carry them
    this.errors = []; // every error, in order (only the first few kept)
    this.errorCount = 0;
    this.requests = 0;
    this.sentCount = 0;
    this.receivedCount = 0;
    this.sequence = 0;
    this.chatTimer = null;
  }

  noteError(text) {
    this.errorCount++;
    if (this.errors.length < 3) this.errors.push(text);
  }

  /** From now on: keep one request held, send queued stanzas at once. */
  startChatting() {
    this.idling = true;
    this.pump();
  }

  pump() {
    if (this.stopped) return;
    // One request is always out (the held poll); a second one only to carry data.
    while (this.outstanding === 0 || (this.outstanding === 1 && this.queue.length > 0)) {
      const payload = this.queue.splice(0).join('');
      this.outstanding++;
      this.requests++;
      const retriedTimeoutsBefore = this.retriedTimeouts;
      this.post({}, payload).then((text) => {
        this.outstanding--;
        if (this.retriedTimeouts > retriedTimeoutsBefore) this.noteError('a request got no response within wait + 15 s (the resend worked)');
        this.handle(text);
        this.pump();
      }, (err) => {
        this.outstanding--;
        if (this.stopped) return;
        // A dead session: stop here rather than pile up errors.
        this.noteError(err.message.slice(0, 300));
        this.error = this.error || err;
        this.stopChatting();
        this.stopped = true;
      });
    }
  }

  /** Checks the stanzas of one response. */
  handle(text) {
    for (const match of text.matchAll(/<message\b[^>]*>/g)) {
      const tag = match[0];
      const type = /\stype=(['"])(.*?)\1/.exec(tag);
      if (type && type[2] === 'error') {
        this.noteError(`a message bounced: ${text.slice(match.index, match.index + 300)}`);
        continue;
      }
      const id = /\sid=(['"])(soak-[^'"]*)\1/.exec(tag);
      if (!id) continue;
      this.receivedCount++;
      const problem = this.ledger.received(id[2], this.index);
      if (problem) this.noteError(problem);
    }
  }

  /** Sends one chat message to the partner every 5-10 s. */
  startSending() {
    const next = () => {
      this.chatTimer = setTimeout(() => {
        if (this.stopped) return;
        this.sendMessage();
        next();
      }, 5000 + Math.random() * 5000);
    };
    next();
  }

  stopChatting() {
    clearTimeout(this.chatTimer);
    this.chatTimer = null;
  }

  sendMessage() {
    const id = `soak-${this.index}-${++this.sequence}`;
    this.ledger.sent(id, this.index, this.partner.index);
    this.sentCount++;
    this.queue.push(`<message to='${this.partner.jid}' id='${id}' type='chat' xmlns='jabber:client'>` +
      `<body>message ${this.sequence} from session ${this.index}</body></message>`);
    this.pump();
  }
}

/** The N good sessions, from login to terminate. */
class GoodTraffic {
  constructor(url, count, { userName, password }) {
    this.ledger = new Ledger();
    this.sessions = Array.from({ length: count }, (_, index) => new ChatSession(url, { index, ledger: this.ledger }));
    // Pairs (0,1), (2,3), ...: partners always differ in source address.
    for (let i = 0; i + 1 < count; i += 2) {
      this.sessions[i].partner = this.sessions[i + 1];
      this.sessions[i + 1].partner = this.sessions[i];
    }
    this.userName = userName;
    this.password = password;
  }

  /** Logs everyone in (50 at a time) and leaves each with a held request. */
  async logIn(concurrency = 50) {
    const started = Date.now();
    const errors = await inPool(this.sessions, concurrency, async (s) => {
      try {
        await s.login(this.userName(s.index), this.password);
      } catch (err) {
        s.noteError(`login: ${err.message.slice(0, 300)}`);
        throw err;
      }
      s.startChatting();
    });
    this.loginSeconds = (Date.now() - started) / 1000;
    return errors;
  }

  startSending() {
    for (const s of this.sessions) if (!s.stopped) s.startSending();
  }

  stopSending() {
    for (const s of this.sessions) s.stopChatting();
  }

  /** Waits until every message sent arrived, or `ms` passed. */
  async drain(ms) {
    const end = Date.now() + ms;
    while (this.ledger.outstanding > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
  }

  /** Terminates every live session; a failed terminate is an error of its session. */
  async terminateAll(concurrency = 50) {
    await inPool(this.sessions.filter((s) => !s.stopped), concurrency, async (s) => {
      try {
        await s.terminate();
      } catch (err) {
        s.noteError(`terminate: ${err.message.slice(0, 200)}`);
      }
    });
    for (const s of this.sessions) s.destroy();
  }

  destroy() {
    for (const s of this.sessions) {
      s.stopChatting();
      s.destroy();
    }
  }

  /** Figures for the report; lost messages are charged to their receivers. */
  summary() {
    const lost = this.ledger.lost();
    if (!this.lostCharged) {
      this.lostCharged = true;
      for (const [id, m] of lost) this.sessions[m.to].noteError(`message ${id} from session ${m.from} never arrived`);
    }
    const withErrors = this.sessions.filter((s) => s.errorCount > 0);
    const lat = this.ledger.latencies;
    return {
      sessions: this.sessions.length,
      loggedIn: this.sessions.filter((s) => s.jid).length,
      withErrors,
      sent: this.ledger.messages.size,
      received: lat.length,
      lost: lost.length,
      duplicates: this.ledger.duplicates,
      strangers: this.ledger.strangers,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      max: lat.length ? Math.max(...lat) : NaN,
      requests: this.sessions.reduce((n, s) => n + s.requests, 0),
      retried: this.sessions.reduce((n, s) => n + s.retried, 0),
      retriedTimeouts: this.sessions.reduce((n, s) => n + s.retriedTimeouts, 0),
      retryExample: (this.sessions.find((s) => s.lastRetryError) || {}).lastRetryError,
    };
  }
}

module.exports = { GoodTraffic, ChatSession, Ledger, GOOD_ADDRESSES, percentile };
