'use strict';
// The wire-level toolkit of the hostile soak (hostile_soak.js): raw TCP
// connections to switchboard from a chosen loopback source address, a name for
// every kind of answer they can get, and the tally of actions and answers that
// the report prints.
//
// Raw sockets because hostile input is exactly what Node's http client refuses
// to send (bad request lines, oversized heads, invalid UTF-8, half-written
// chunked bodies). The response parser is the one the conformance suite uses
// (tests/lib/raw_http.js), wrapped so that an unparsable answer is recorded
// instead of throwing out of a socket callback.
//
// Every raw socket opened here is counted (open now, peak), so the soak can
// show that it kept its own promise of a bounded number of hostile sockets.

const net = require('node:net');
const crypto = require('node:crypto');
const { HttpConnection, requestBytes } = require('../lib/raw_http');

const NS_BOSH = 'http://jabber.org/protocol/httpbind';

const sockets = { open: 0, peak: 0, opened: 0 };

/** A raw HTTP connection that records transport errors instead of throwing. */
class HostileConnection extends HttpConnection {
  constructor(socket) {
    super(socket);
    this.transportError = null; // first socket error code (ECONNRESET, EPIPE, ...)
    this.parseError = null;
    this.dataSeen = false; // any byte from the server yet (an answer may be on its way)
    socket.on('data', () => { this.dataSeen = true; });
    socket.on('error', (err) => { this.transportError = this.transportError || err.code || err.message; });
  }

  // The base class throws on a status line it cannot read; that is an answer
  // worth counting, not a reason to crash the soak.
  parse() {
    try {
      super.parse();
    } catch (err) {
      this.parseError = err.message;
      this.socket.destroy();
    }
  }

  /** Writes raw bytes unless the socket is gone; resolves when flushed (or failed). */
  send(bytes) {
    if (this.socket.destroyed) return Promise.resolve(false);
    this.headRequests.push(false);
    return new Promise((resolve) => this.socket.write(bytes, (err) => resolve(!err)));
  }

  /** Writes bytes that do not start a request (the rest of a body). */
  sendMore(bytes) {
    if (this.socket.destroyed) return Promise.resolve(false);
    return new Promise((resolve) => this.socket.write(bytes, (err) => resolve(!err)));
  }

  get gone() {
    return this.socket.destroyed || this.ended;
  }
}

/** Opens a connection to 127.0.0.1:port from `localAddress`. */
function openConnection(port, localAddress, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    sockets.open++;
    sockets.opened++;
    sockets.peak = Math.max(sockets.peak, sockets.open);
    socket.once('close', () => { sockets.open--; });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error('connect timed out'), { code: 'CONNECT_TIMEOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(new HostileConnection(socket));
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** The <body/> wrapper's attribute value, or undefined. */
function attribute(xml, name) {
  const head = /<body\b[^>]*>/.exec(xml);
  if (!head) return undefined;
  const match = new RegExp(`\\s${name}=(['"])(.*?)\\1`).exec(head[0]);
  return match ? match[2] : undefined;
}

/**
 * A short, stable name for an HTTP answer: "HTTP 400", "200 terminate
 * item-not-found", "200 terminate (none)", "200 type=error", "200 body" (an
 * ordinary BOSH response), "200 text/html" (not BOSH).
 */
function answerName(res) {
  if (res.status !== 200) return `HTTP ${res.status}`;
  if (!/^\s*<body\b/.test(res.body)) return `200 ${(res.header('content-type') || 'no type').split(';')[0]}`;
  const type = attribute(res.body, 'type');
  if (type === 'terminate') return `200 terminate ${attribute(res.body, 'condition') || '(none)'}`;
  if (type === 'error') return '200 type=error';
  return '200 body';
}

/** The name of the way a wait for an answer failed on `conn`. */
function failureName(conn, err) {
  if (conn && conn.parseError) return 'unparsable answer';
  if (/no HTTP response within/.test(err.message)) return 'no answer (our deadline)';
  if (conn && conn.transportError) return `reset (${conn.transportError})`;
  return 'closed, no answer';
}

/** The next answer on `conn` by name (never throws). */
async function nextAnswer(conn, timeoutMs = 10000) {
  try {
    const res = await conn.next({ timeoutMs });
    return { name: answerName(res), res };
  } catch (err) {
    return { name: failureName(conn, err), res: null };
  }
}

/**
 * Counts per action: how often it ran and which answers it got, which of those
 * answers were not the expected ones (with a first example), and how long an
 * answer took (min/max), for the report.
 */
class Tally {
  constructor() {
    this.actions = new Map(); // action -> { total, answers: Map(name -> n), unexpected: Map(name -> {n, example}), minMs, maxMs }
  }

  entry(action) {
    let e = this.actions.get(action);
    if (!e) {
      e = { total: 0, answers: new Map(), unexpected: new Map(), minMs: Infinity, maxMs: 0 };
      this.actions.set(action, e);
    }
    return e;
  }

  /**
   * Records one action's answer. `expected` is a list of answer names or
   * regular expressions; an answer matching none is "unexpected".
   */
  record(action, answer, { expected = null, ms = null, example = '' } = {}) {
    const e = this.entry(action);
    e.total++;
    e.answers.set(answer, (e.answers.get(answer) || 0) + 1);
    if (ms !== null) {
      e.minMs = Math.min(e.minMs, ms);
      e.maxMs = Math.max(e.maxMs, ms);
    }
    if (expected && !expected.some((x) => (x instanceof RegExp ? x.test(answer) : x === answer))) {
      const u = e.unexpected.get(answer) || { n: 0, example };
      u.n++;
      e.unexpected.set(answer, u);
    }
  }

  get totalActions() {
    let n = 0;
    for (const e of this.actions.values()) n += e.total;
    return n;
  }

  get totalUnexpected() {
    let n = 0;
    for (const e of this.actions.values()) for (const u of e.unexpected.values()) n += u.n;
    return n;
  }
}

/** Loopback source addresses from 127.0.0.`first` to 127.0.0.`last`. */
function addressRange(first, last) {
  return Array.from({ length: last - first + 1 }, (_, i) => `127.0.0.${first + i}`);
}

const pick = (list) => list[Math.floor(Math.random() * list.length)];
const randomInt = (low, high) => low + Math.floor(Math.random() * (high - low + 1));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A sid nobody was given: 128 random bits, like switchboard's own. */
const randomSid = () => crypto.randomBytes(16).toString('base64url');

/** A BOSH <body/> with attributes (undefined values left out) and a payload. */
function bodyXml(attrs, payload = '') {
  const text = Object.entries({ xmlns: NS_BOSH, ...attrs })
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}='${v}'`).join('');
  return payload ? `<body${text}>${payload}</body>` : `<body${text}/>`;
}

/** Attributes of a session creation request as a browser client sends them. */
function creationAttrs(rid, extra = {}) {
  return {
    rid, to: 'localhost', 'xml:lang': 'en', wait: 2, hold: 1, ver: '1.6',
    'xmpp:version': '1.0', 'xmlns:xmpp': 'urn:xmpp:xbosh', ...extra,
  };
}

/** The bytes of a POST of `body` to the BOSH path. */
const postBytes = (port, body, headers = [['Content-Type', 'text/xml; charset=utf-8']]) =>
  requestBytes({ method: 'POST', path: '/http-bind', headers, body, port });

module.exports = {
  NS_BOSH, sockets, HostileConnection, openConnection, attribute, answerName, failureName, nextAnswer, Tally,
  addressRange, pick, randomInt, sleep, randomSid, bodyXml, creationAttrs, postBytes, requestBytes,
};
