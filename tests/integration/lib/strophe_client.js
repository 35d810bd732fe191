'use strict';
// A real XMPP client for the tests: Strophe.js 5 over BOSH or WebSocket (a ws://
// URL: RFC 7395, through the `ws` package Strophe's Node build installs as the
// global WebSocket), running in Node.
//
// Node has no XMLHttpRequest, so we use the `xhr2` package. Strophe reads only
// `xhr.responseXML`, which xhr2 lacks: without it Strophe silently drops every
// response and no session ever starts. The subclass below parses responseText
// with the DOMParser that Strophe's Node build installs.
//
// The wrapper turns Strophe's callbacks into promises. Every wait has its own
// timeout, so a test that goes wrong fails with a message instead of hanging.
// Every message and presence that arrives is recorded, so a wait also sees
// stanzas that arrived before it began.

const http = require('node:http');
const https = require('node:https');
const { Strophe, $msg, $pres, $iq } = require('strophe.js');
const XHR2 = require('xhr2');

// Strophe creates its XHRs through the global constructor, with no way to say
// for which connection. Each XmppClient wraps its connection's send path to
// name its own HTTP agent here while it sends, so every client has its own
// keep-alive TCP connections (as separate browsers would) that it can drop.
let agentOfSendingClient = null;

class XMLHttpRequestWithXml extends XHR2 {
  send(data) {
    if (agentOfSendingClient) this.nodejsHttpAgent = this.nodejsHttpsAgent = agentOfSendingClient;
    return super.send(data);
  }

  get responseXML() {
    if (this.readyState !== 4 || !this.responseText) return null;
    return new globalThis.DOMParser().parseFromString(this.responseText, 'text/xml');
  }
}
globalThis.XMLHttpRequest = XMLHttpRequestWithXml;
Strophe.setLogLevel(process.env.SB_DEBUG ? Strophe.LogLevel.DEBUG : Strophe.LogLevel.FATAL);

const statusName = Object.fromEntries(Object.entries(Strophe.Status).map(([k, v]) => [v, k]));
const bare = (jid) => Strophe.getBareJidFromJid(jid);

/** Rejects with `what` after `ms` unless `promise` settles first. */
function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

class XmppClient {
  /**
   * @param boshUrl  the connection manager's BOSH URL, or its ws:// WebSocket URL
   * @param opts.wait  BOSH `wait` in seconds (short, so a frozen client's
   *                   held request ends soon and inactivity can start)
   * @param opts.ca    for an https:// URL: the PEM certificate(s) to trust
   * @param opts.keepAlive  false: a new connection for every request
   * @param opts.localAddress  the source address of its TCP connections
   *                   (127.0.0.x: several "machines" on one host)
   */
  constructor(boshUrl, { name = 'client', wait = 10, ca = undefined, keepAlive = true, localAddress } = {}) {
    this.boshUrl = boshUrl;
    this.name = name;
    this.wait = wait;
    this.messages = [];
    this.presences = [];
    this.statuses = [];
    this.waiters = [];
    this.conn = new Strophe.Connection(boshUrl);
    this.websocket = /^wss?:/.test(boshUrl);
    const agentOptions = { keepAlive, ...(localAddress ? { localAddress } : {}) };
    this.agent = /^https:/.test(boshUrl) ? new https.Agent({ ...agentOptions, ca }) : new http.Agent(agentOptions);
    // What a user never sees but a test of the connection manager should: the
    // HTTP errors Strophe counted (_hitError, by status: 0 is a network error),
    // the requests it resent with the same rid, and its TCP connections opened
    // and closed (BOSH only).
    this.httpErrors = {};
    this.resends = 0;
    this.tcpOpened = 0;
    this.tcpClosed = 0;
    if (process.env.SB_DEBUG) {
      this.conn.rawInput = (data) => console.error(`[${name} <<] ${data}`);
      this.conn.rawOutput = (data) => console.error(`[${name} >>] ${data}`);
    }
    if (this.websocket) return;  // one socket of its own: no XHR agents to route
    const createConnection = this.agent.createConnection.bind(this.agent);
    this.agent.createConnection = (...args) => {
      const socket = createConnection(...args);
      this.tcpOpened++;
      socket.once('close', () => { this.tcpClosed++; });
      return socket;
    };
    const bosh = this.conn._proto;
    const hitError = bosh._hitError.bind(bosh);
    bosh._hitError = (status) => {
      this.httpErrors[status] = (this.httpErrors[status] || 0) + 1;
      return hitError(status);
    };
    const processRequest = bosh._processRequest.bind(bosh);
    bosh._processRequest = (i) => {
      const before = bosh._requests[i];
      agentOfSendingClient = this.agent;
      try {
        return processRequest(i);
      } finally {
        agentOfSendingClient = null;
        // Strophe resends by putting a new request with the same rid in its place.
        const now = bosh._requests[i];
        if (before && now && now !== before && now.rid === before.rid) this.resends++;
        // A retry may be sent later from a timer: give its XHR our agent now.
        for (const request of bosh._requests) request.xhr.nodejsHttpAgent = request.xhr.nodejsHttpsAgent = this.agent;
      }
    };
  }

  /** The full JID the server bound for us. */
  get jid() {
    return this.conn.jid;
  }

  /** The BOSH session id (null over WebSocket or before the session exists). */
  get sid() {
    return this.websocket ? null : this.conn._proto.sid;
  }

  /** Logs in (SASL + resource bind); rejects on AUTHFAIL, CONNFAIL or timeout. */
  connect(jid, password, { timeoutMs = 15000 } = {}) {
    const connected = new Promise((resolve, reject) => {
      this.conn.connect(jid, password, (status, condition) => {
        this.statuses.push(statusName[status]);
        this.notify();
        if (status === Strophe.Status.CONNECTED) resolve();
        else if ([Strophe.Status.AUTHFAIL, Strophe.Status.CONNFAIL, Strophe.Status.ERROR,
          Strophe.Status.CONNTIMEOUT, Strophe.Status.BINDREQUIRED].includes(status)) {
          reject(new Error(`${this.name}: ${statusName[status]}${condition ? ` (${condition})` : ''}`));
        } else if (status === Strophe.Status.DISCONNECTED && !this.conn.authenticated) {
          reject(new Error(`${this.name}: disconnected before login completed`));
        }
      }, this.wait);
    });
    this.conn.addHandler((stanza) => this.record(this.messages, stanza), null, 'message');
    this.conn.addHandler((stanza) => this.record(this.presences, stanza), null, 'presence');
    // Answer XEP-0199 pings like real clients do, so a ping to our full JID
    // tells "online" (result) from "the server no longer has it" (error).
    this.conn.addHandler((stanza) => {
      this.conn.send($iq({ type: 'result', to: stanza.getAttribute('from'), id: stanza.getAttribute('id') }));
      return true;
    }, 'urn:xmpp:ping', 'iq', 'get');
    return withTimeout(connected, timeoutMs, `${this.name} connect as ${jid}`);
  }

  record(list, stanza) {
    list.push({
      from: stanza.getAttribute('from') || '',
      type: stanza.getAttribute('type') || '',
      body: stanza.getElementsByTagName('body')[0]?.textContent ?? null,
      at: Date.now(),
    });
    this.notify();
    return true; // keep the handler
  }

  notify() {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Resolves with the first recorded item of `list` that satisfies `match`. */
  waitFor(list, match, timeoutMs, what) {
    let check;
    const found = new Promise((resolve) => {
      check = () => {
        const item = list.find(match);
        if (item) resolve(item);
      };
    });
    this.waiters.push(check);
    check();
    return withTimeout(found, timeoutMs, `${this.name}: ${what}`).finally(() => {
      this.waiters = this.waiters.filter((w) => w !== check);
    });
  }

  sendPresence() {
    this.conn.send($pres());
  }

  sendMessage(to, body) {
    this.conn.send($msg({ to, type: 'chat' }).c('body').t(body));
  }

  /** A chat message from `from` (bare JID) with `body`. */
  waitForMessage({ from, body }, { timeoutMs = 10000 } = {}) {
    return this.waitFor(this.messages, (m) => bare(m.from) === from && (body === undefined || m.body === body),
      timeoutMs, `message from ${from}${body !== undefined ? ` saying ${JSON.stringify(body)}` : ''}`);
  }

  /** A presence from `from` (bare JID); `type` '' means available. */
  waitForPresence({ from, type = '', after = 0 }, { timeoutMs = 10000 } = {}) {
    return this.waitFor(this.presences, (p) => bare(p.from) === from && p.type === type && p.at >= after,
      timeoutMs, `presence${type ? ` type=${type}` : ''} from ${from}`);
  }

  /** Sends an IQ and resolves with the reply stanza, result or error alike. */
  iq(stanza, { timeoutMs = 10000, what = 'iq' } = {}) {
    const reply = new Promise((resolve) => {
      this.conn.sendIQ(stanza, resolve, (err) => resolve(err), timeoutMs);
    });
    return withTimeout(reply, timeoutMs + 1000, `${this.name}: reply to ${what}`).then((r) => {
      if (!r) throw new Error(`${this.name}: ${what} timed out (no reply)`);
      return r;
    });
  }

  /** The roster as [{jid, subscription, name}]. */
  async getRoster(opts = {}) {
    const reply = await this.iq($iq({ type: 'get' }).c('query', { xmlns: Strophe.NS.ROSTER }), { ...opts, what: 'roster get' });
    if (reply.getAttribute('type') !== 'result') throw new Error(`${this.name}: roster get failed: ${Strophe.serialize(reply)}`);
    return Array.from(reply.getElementsByTagName('item')).map((item) => ({
      jid: item.getAttribute('jid'),
      subscription: item.getAttribute('subscription'),
      name: item.getAttribute('name'),
    }));
  }

  /** XEP-0199 ping; resolves with the reply's type ('result' or 'error'). */
  async ping(to, opts = {}) {
    const reply = await this.iq($iq({ type: 'get', to }).c('ping', { xmlns: 'urn:xmpp:ping' }), { ...opts, what: `ping ${to}` });
    return reply.getAttribute('type');
  }

  /** Logs out: unavailable presence + BOSH terminate; resolves when DISCONNECTED. */
  disconnect({ timeoutMs = 10000 } = {}) {
    if (this.statuses.includes('DISCONNECTED')) return Promise.resolve();
    let check;
    const gone = new Promise((resolve) => {
      check = () => {
        if (this.statuses.includes('DISCONNECTED')) resolve();
      };
    });
    this.waiters.push(check);
    this.conn.disconnect('test logs out');
    return withTimeout(gone, timeoutMs, `${this.name} disconnect`).finally(() => {
      this.waiters = this.waiters.filter((w) => w !== check);
    });
  }

  /**
   * Goes silent without telling anyone, like a browser tab that lost its
   * network: Strophe's idle loop stops, so no request goes out any more, and
   * the requests in flight (the held long poll) are dropped with their TCP
   * connections. The connection manager has to notice by inactivity.
   */
  freeze() {
    this.conn._onIdle = () => {};
    clearTimeout(this.conn._idleTimeout);
    if (this.websocket) {
      // Over WebSocket: the TCP connection dies with no close frame (terminate()
      // destroys the socket), as when a laptop's network goes.
      const socket = this.conn._proto.socket;
      if (socket) {
        socket.onclose = null;
        socket.onerror = null;
        socket.onmessage = null;
        socket.terminate();
      }
      this.agent.destroy();
      this.frozen = true;
      return;
    }
    for (const request of this.conn._proto._requests || []) {
      request.xhr.onreadystatechange = null;
      request.xhr.abort();
    }
    this.conn._proto._requests = [];
    this.agent.destroy();
    this.frozen = true;
  }

  /** Best-effort cleanup at the end of a test: never throws, never waits long. */
  async close() {
    if (!this.frozen && this.conn.connected) {
      await this.disconnect({ timeoutMs: 3000 }).catch(() => {});
    }
    if (!this.frozen) this.freeze();
  }
}

module.exports = { XmppClient, withTimeout, bare };
