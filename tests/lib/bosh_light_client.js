'use strict';
// A deliberately small BOSH client for load benchmarks: one object per session,
// plain Node http with a keep-alive agent of its own (as a separate browser
// would have), XML handled with a few regular expressions. It logs in the way
// every web chat does (XEP-0206: session creation, SASL PLAIN, stream restart,
// resource bind, initial presence) and then idles the way a browser tab does:
// exactly one empty request held by the connection manager at all times, and
// when it comes back (after `wait` seconds, or with a stanza) the next one goes
// out at once.
//
// Why not Strophe (tests/integration/lib/strophe_client.js)? A thousand
// Strophe connections in one Node process cost a DOM implementation and a lot
// of timers each; here a session is a few strings, one agent and one socket.
// The price is that this client trusts the peer: it only understands the
// replies a well-behaved server sends, and reports anything else as an error.
// Optionally (for the hostile soak) it sends from a chosen source address and,
// like Strophe, resends a request that failed in transport with the same rid.

const http = require('node:http');

const NS_BOSH = 'http://jabber.org/protocol/httpbind';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';

/** The value of attribute `name` on the root <body ...> of a response, or null. */
function bodyAttribute(xml, name) {
  const head = /<body\b[^>]*>/.exec(xml);
  if (!head) return null;
  const match = new RegExp(`\\s${name.replace(':', '\\:')}=(['"])(.*?)\\1`).exec(head[0]);
  return match ? match[2] : null;
}

const escapeXml = (s) => String(s).replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]);

class LightBoshSession {
  /**
   * @param url    the BOSH endpoint (http://127.0.0.1:port/http-bind)
   * @param opts.wait  BOSH wait in seconds
   * @param opts.hold  BOSH hold (default 1; 0 makes a polling session, bench/request_path.js)
   * @param opts.localAddress  source address of the requests (default: the system's choice)
   * @param opts.retries  how often a request that failed in transport (socket
   *                      error, no response in time) is resent with the same rid
   */
  constructor(url, { domain = 'localhost', wait = 60, hold = 1, timeoutMs = (wait + 15) * 1000, localAddress, retries = 0 } = {}) {
    this.url = new URL(url);
    this.domain = domain;
    this.wait = wait;
    this.hold = hold;
    this.timeoutMs = timeoutMs;
    this.localAddress = localAddress; // source address of every request (127.0.0.x), or the default
    this.retries = retries; // resends of the same rid after a transport failure, as Strophe does
    this.retried = 0; // how many such resends happened
    this.retriedTimeouts = 0; // of which after no response within timeoutMs
    this.lastRetryError = null;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    // Below 2^32 like Strophe, so rid + requests never nears 2^53.
    this.rid = Math.floor(Math.random() * 0x7fffffff) + 1;
    this.sid = null;
    this.jid = null;
    this.idling = false;
    this.stopped = false;
    this.polls = 0; // idle requests that came back
    this.stanzasWhileIdle = 0;
    this.error = null; // first error while idling
    this.timings = {}; // step -> ms
  }

  /** POSTs one <body/> with the next rid and resolves with the response text (HTTP 200 only). */
  post(attrs, payload = '') {
    return this.postWithRid(this.rid++, attrs, payload);
  }

  /**
   * POSTs one <body/> with the given rid. A transport failure (the socket
   * failed, or no response within timeoutMs) is retried up to `retries` times
   * with the very same request, as a browser client does; an HTTP error or a
   * terminate is not.
   */
  async postWithRid(rid, attrs, payload = '') {
    const attrText = Object.entries({ rid, xmlns: NS_BOSH, ...(this.sid ? { sid: this.sid } : {}), ...attrs })
      .map(([k, v]) => ` ${k}='${escapeXml(v)}'`).join('');
    const xml = payload ? `<body${attrText}>${payload}</body>` : `<body${attrText}/>`;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(xml);
      } catch (err) {
        if (!err.transport || attempt >= this.retries || this.stopped) throw err;
        this.retried++;
        if (err.timeout) this.retriedTimeouts++;
        this.lastRetryError = err;
        await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1))); // a short back-off
      }
    }
  }

  /** One HTTP exchange of `xml`; a rejection has `transport: true` if no response came. */
  send(xml) {
    return new Promise((resolve, reject) => {
      const failedInTransport = (err) => {
        err.transport = true;
        reject(err);
      };
      const req = http.request({
        host: this.url.hostname,
        port: this.url.port,
        path: this.url.pathname,
        method: 'POST',
        agent: this.agent,
        ...(this.localAddress ? { localAddress: this.localAddress } : {}),
        headers: { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': Buffer.byteLength(xml) },
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
          else if (bodyAttribute(text, 'type') === 'terminate') {
            reject(new Error(`terminated (${bodyAttribute(text, 'condition') || 'no condition'}): ${text.slice(0, 300)}`));
          } else resolve(text);
        });
        res.on('error', failedInTransport);
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error(`no response within ${this.timeoutMs} ms`), { timeout: true })));
      req.on('error', failedInTransport);
      req.end(xml);
    });
  }

  /**
   * Sends `payload`, then empty polls, until a response contains `pattern`.
   * The connection manager may deliver a reply in the response to the request
   * that caused it or in a later one; both are fine.
   */
  async exchange(step, attrs, payload, pattern) {
    const started = Date.now();
    let text = await this.post(attrs, payload);
    for (let polls = 0; !pattern.test(text); polls++) {
      if (polls > 5) throw new Error(`${step}: no ${pattern} in ${polls} responses, last: ${text.slice(0, 300)}`);
      // A polling session (hold=0) is answered at once: give the server time to reply.
      if (this.hold === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      text = await this.post({});
    }
    this.timings[step] = Date.now() - started;
    return text;
  }

  /** The whole login, up to and including the response to initial presence. */
  async login(user, password) {
    const created = await this.exchange('create', {
      to: this.domain, 'xml:lang': 'en', wait: this.wait, hold: this.hold, content: 'text/xml; charset=utf-8',
      ver: '1.6', 'xmpp:version': '1.0', 'xmlns:xmpp': 'urn:xmpp:xbosh',
    }, '', /<body\b/);
    this.sid = bodyAttribute(created, 'sid');
    if (!this.sid) throw new Error(`no sid in the creation response: ${created.slice(0, 300)}`);
    // Stream features may come with the creation response or in a later one.
    if (!/<mechanisms\b/.test(created)) await this.exchange('features', {}, '', /<mechanisms\b/);
    const credentials = Buffer.from(`\0${user}\0${password}`).toString('base64');
    await this.exchange('auth', {}, `<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${credentials}</auth>`, /<success\b|<failure\b/)
      .then((t) => { if (/<failure\b/.test(t)) throw new Error(`SASL failure: ${t.slice(0, 300)}`); });
    await this.exchange('restart', { to: this.domain, 'xml:lang': 'en', 'xmpp:restart': 'true', 'xmlns:xmpp': 'urn:xmpp:xbosh' },
      '', /<bind\b/);
    const bound = await this.exchange('bind', {},
      `<iq type='set' id='bind_1' xmlns='jabber:client'><bind xmlns='${NS_BIND}'><resource>bench</resource></bind></iq>`,
      /<jid>/);
    this.jid = /<jid>([^<]*)<\/jid>/.exec(bound)[1];
    // Our own presence comes back to us (RFC 6121 4.2.2), so this returns soon.
    await this.exchange('presence', {}, "<presence xmlns='jabber:client'/>", /<presence\b/);
  }

  /** From now on keeps one empty request held; returns at once. */
  startIdling() {
    this.idling = true;
    const next = () => {
      if (this.stopped) return;
      this.post({}).then((text) => {
        this.polls++;
        if (/<(message|presence|iq)\b/.test(text)) this.stanzasWhileIdle++;
        next();
      }, (err) => {
        if (!this.stopped && !this.error) this.error = err;
      });
    };
    next();
  }

  /** Ends the session with a terminate request (the held poll is answered too). */
  async terminate() {
    this.stopped = true;
    if (!this.sid) return;
    const attrs = { type: 'terminate' };
    await this.post(attrs, "<presence type='unavailable' xmlns='jabber:client'/>").catch((err) => {
      // "terminated" is the expected answer; anything else is worth reporting.
      if (!/^terminated/.test(err.message)) throw err;
    });
  }

  /** Drops every socket without a word, as a closed browser tab does. */
  destroy() {
    this.stopped = true;
    this.agent.destroy();
  }
}

module.exports = { LightBoshSession, bodyAttribute };
