'use strict';
// A BOSH client made of raw requests: it builds <body/> wrappers byte for byte,
// sends each request on its own TCP connection (so any number can be held at
// once, in any order, with any rid), and reads answers into a Reply that exposes
// exactly what the tests assert: HTTP status, Content-Type, the <body/> wrapper's
// attributes and its children.
//
// Nothing here is clever on purpose: a test says which rid, which attributes and
// which payload; the session object only remembers sid and the last rid it used.

const { post } = require('./raw_http');
const { parseOpenTag, topLevelElements, escapeAttr } = require('./xml_bits');

const HTTPBIND_NS = 'http://jabber.org/protocol/httpbind';
const XBOSH_NS = 'urn:xmpp:xbosh';
const STREAM_NS = 'http://etherx.jabber.org/streams';
const DEFAULT_CONTENT_TYPE = 'text/xml; charset=utf-8';

/**
 * Builds "<body attrs... xmlns='httpbind'>payload</body>". `attrs` keeps its
 * order; an attribute whose value is undefined is left out. An xmpp:* attribute
 * brings the urn:xmpp:xbosh declaration along.
 */
function bodyXml(attrs = {}, payload = '') {
  let out = '<body';
  let needsXmpp = false;
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (name.startsWith('xmpp:')) needsXmpp = true;
    out += ` ${name}='${escapeAttr(value)}'`;
  }
  out += ` xmlns='${HTTPBIND_NS}'`;
  if (needsXmpp && !('xmlns:xmpp' in attrs)) out += ` xmlns:xmpp='${XBOSH_NS}'`;
  return payload ? `${out}>${payload}</body>` : `${out}/>`;
}

/** What switchboard answered to one request. */
class Reply {
  constructor(res) {
    this.res = res;
    this.status = res.status;
    this.contentType = res.header('content-type');
    this.text = res.body;
    this.body = null;       // { name, attrs, selfClosing } of the root, if it is XML
    this.payload = '';      // the text inside <body>...</body>
    this.elements = [];     // the payload's top-level elements
    const trimmed = res.body.trim();
    if (trimmed.startsWith('<')) {
      const openEnd = trimmed.indexOf('>');
      this.body = parseOpenTag(trimmed.slice(0, openEnd + 1));
      if (this.body && !this.body.selfClosing) {
        const close = `</${this.body.name}>`;
        this.payload = trimmed.slice(openEnd + 1, trimmed.endsWith(close) ? trimmed.length - close.length : undefined);
        this.elements = topLevelElements(this.payload);
      }
    }
  }

  get attrs() { return this.body ? this.body.attrs : {}; }
  get type() { return this.attrs.type; }
  get condition() { return this.attrs.condition; }
  get isEmpty() { return this.body !== null && this.body.selfClosing; }

  /** One line for assertion messages. */
  describe() {
    return `HTTP ${this.status} [${this.contentType}] ${this.text.slice(0, 400)}`;
  }
}

function randomRid() {
  // Strophe: a random number below 2^32, far from the 2^53 limit.
  return 1000000 + Math.floor(Math.random() * 4000000000);
}

/**
 * Sends one <body/> (given as text) and returns a promise of the Reply. A test
 * that fails before awaiting a held request must not leave an unhandled
 * rejection behind, so the promise is marked handled (awaiting it still throws).
 */
function sendBody(port, xml, opts = {}) {
  const promise = post(port, xml, opts).then((res) => new Reply(res));
  promise.catch(() => {});
  return promise;
}

/**
 * One client session. `create` sends the creation request with sensible
 * defaults (ver 1.11, wait 10, hold 1, xmpp:version 1.0) that a test overrides
 * with `attrs` (undefined removes one).
 */
class BoshSession {
  constructor(port, { sid, rid, to, creation, legacy = false }) {
    this.port = port;
    this.sid = sid;
    this.rid = rid;     // the last rid used
    this.to = to;
    this.creation = creation;
    this.legacy = legacy;
  }

  static creationAttrs(to, attrs = {}, rid = randomRid()) {
    return {
      rid: String(rid), to, 'xml:lang': 'en', ver: '1.11', wait: '10', hold: '1', 'xmpp:version': '1.0', ...attrs,
    };
  }

  /** Creates a session; throws (with the answer) if no sid comes back. */
  static async create(port, to, attrs = {}, { payload = '', timeoutMs = 8000, headers } = {}) {
    const rid = attrs.rid !== undefined ? Number(attrs.rid) : randomRid();
    const all = BoshSession.creationAttrs(to, attrs, rid);
    const reply = await sendBody(port, bodyXml(all, payload), { timeoutMs, headers });
    if (reply.status !== 200 || !reply.attrs.sid) {
      throw new Error(`session creation for ${to} failed: ${reply.describe()}`);
    }
    return new BoshSession(port, { sid: reply.attrs.sid, rid, to, creation: reply, legacy: all.ver === undefined });
  }

  /** The XML of a request of this session (rid defaults to the next one, not consumed). */
  xml({ rid = this.rid + 1, attrs = {}, payload = '' } = {}) {
    return bodyXml({ rid: String(rid), sid: this.sid, ...attrs }, payload);
  }

  /**
   * Sends a request; resolves with the Reply. `rid` defaults to the next rid
   * (and advances the counter); an explicit rid leaves the counter alone unless
   * it is higher.
   */
  send({ rid, attrs = {}, payload = '', timeoutMs = 8000, headers } = {}) {
    const useRid = rid !== undefined ? rid : this.rid + 1;
    if (useRid > this.rid) this.rid = useRid;
    return sendBody(this.port, this.xml({ rid: useRid, attrs, payload }), { timeoutMs, headers });
  }
}

module.exports = {
  bodyXml, Reply, BoshSession, sendBody, randomRid, HTTPBIND_NS, XBOSH_NS, STREAM_NS, DEFAULT_CONTENT_TYPE,
};
