'use strict';
// A raw-TCP XMPP client for the stub's test: just enough to log in (SASL PLAIN or
// ANONYMOUS, restart, bind, session) and then send stanzas and wait for replies
// matched by regular expressions over the received text. Node built-ins only.

const net = require('node:net');

const STREAM_OPEN = (domain) =>
  `<?xml version='1.0'?><stream:stream to='${domain}' xmlns='jabber:client' ` +
  `xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;

class XmppClient {
  constructor(port, host = '127.0.0.1') {
    this.port = port;
    this.host = host;
    this.buffer = '';
    this.waiters = [];
    this.closed = false;
    this.jid = null;
    this.streamId = null;
  }

  connect() {
    return new Promise((resolve, reject) => {
      this.socket = net.connect(this.port, this.host, resolve);
      this.socket.setEncoding('utf8');
      this.socket.once('error', reject);
      this.socket.on('data', (chunk) => { this.buffer += chunk; this.check(); });
      this.socket.on('close', () => { this.closed = true; this.check(); });
    });
  }

  send(text) { this.socket.write(text); }

  // Resolves with the first match of `regex` in what arrived (and drops everything
  // up to its end), or rejects after `ms`.
  waitFor(regex, ms = 5000) {
    return new Promise((resolve, reject) => {
      const waiter = { regex, resolve, reject };
      waiter.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out waiting for ${regex}; buffer: ${this.buffer.slice(0, 500)}`));
      }, ms);
      this.waiters.push(waiter);
      this.check();
    });
  }

  waitClosed(ms = 5000) {
    return new Promise((resolve, reject) => {
      if (this.closed) return resolve();
      const timer = setTimeout(() => reject(new Error('socket not closed')), ms);
      this.socket.once('close', () => { clearTimeout(timer); resolve(); });
    });
  }

  check() {
    for (const waiter of [...this.waiters]) {
      const match = waiter.regex.exec(this.buffer);
      if (!match) continue;
      this.buffer = this.buffer.slice(match.index + match[0].length);
      clearTimeout(waiter.timer);
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(match);
    }
  }

  // Logs in and binds; `user` null means ANONYMOUS. Returns the bound full JID.
  async login({ domain = 'stub.test', user = null, password = 'any', resource = null } = {}) {
    await this.connect();
    this.send(STREAM_OPEN(domain));
    const header = await this.waitFor(/<stream:stream [^>]*>/);
    this.streamId = /id='([^']*)'/.exec(header[0])[1];
    await this.waitFor(/<\/stream:features>/);
    if (user === null) {
      this.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>");
    } else {
      const plain = Buffer.from(`\0${user}\0${password}`).toString('base64');
      this.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`);
    }
    await this.waitFor(/<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'\/>/);
    this.send(STREAM_OPEN(domain));
    const header2 = await this.waitFor(/<stream:stream [^>]*>/);
    this.streamId = /id='([^']*)'/.exec(header2[0])[1];
    await this.waitFor(/<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'\/>.*<\/stream:features>/);
    const res = resource === null ? '' : `<resource>${resource}</resource>`;
    this.send(`<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>${res}</bind></iq>`);
    const bound = await this.waitFor(/<iq [^>]*id='b1'[^>]*><bind [^>]*><jid>([^<]*)<\/jid>/);
    this.jid = bound[1];
    this.send("<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
    await this.waitFor(/<iq [^>]*type='result'[^>]*id='s1'[^>]*\/>|<iq [^>]*id='s1'[^>]*type='result'[^>]*\/>/);
    return this.jid;
  }

  // The worker that holds this session: the stream id is "p<worker>-<counter>".
  get worker() { return Number(/^p(\d+)-/.exec(this.streamId)[1]); }

  close() { if (!this.closed) this.socket.destroy(); }
}

module.exports = { XmppClient, STREAM_OPEN };
