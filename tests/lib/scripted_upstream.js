'use strict';
// A scripted XMPP server: a real TCP server that accepts switchboard's c2s
// connections and does exactly what a test tells it to.
//
// Each BOSH session of a test uses its own `to` domain, so the upstream can tell
// the connections apart: the test plans how the connection for a domain greets
// (normally: its own stream header + features; or never, or by closing, or with
// garbage), then takes hold of the connection with `connection(to)` and drives it
// (send a stanza, a stream error, a huge stanza; close; stop reading) while the
// connection records everything switchboard wrote: stream headers (a second one
// after a restart), stanzas in order, and whether </stream:stream> came.

const net = require('node:net');
const { StreamReader, escapeAttr } = require('./xml_bits');
const { Waiters } = require('./waiters');

const STREAM_NS = 'http://etherx.jabber.org/streams';
const DEFAULT_FEATURES =
  "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>";
const DEFAULT_RESTART_FEATURES =
  "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";

let streamCounter = 0;

/**
 * How the server treats the connection for one domain. Every field is optional.
 * - greet: 'normal' (header, then features), 'never' (read but say nothing),
 *   'close' (close the TCP connection on the header), 'garbage' (answer with
 *   bytes that are not XML)
 * - id, from, version: attributes of the server's stream header (from defaults
 *   to the client's `to`)
 * - headerExtra: raw text appended inside the server's header (e.g. a prefix
 *   declaration: " xmlns:foo='urn:foo'")
 * - features / restartFeatures: the <stream:features/> sent after the first /
 *   any later header; null sends none
 * - featuresDelayMs: the first features come this long after the header
 * - echo: send every stanza received straight back
 */
class ScriptedUpstream {
  /**
   * @param opts.proxyProtocol  every connection starts with a PROXY protocol
   *   header (v1 or v2), as switchboard sends with upstream_proxy_protocol; it
   *   is taken off first and kept as conn.proxyHeader (Buffer) and
   *   conn.proxySource (the address it names, or null for UNKNOWN/LOCAL)
   * @param opts.host  the address to listen on (127.0.0.1; '::1' for IPv6)
   */
  constructor({ proxyProtocol = false, host = '127.0.0.1' } = {}) {
    this.proxyProtocol = proxyProtocol;
    this.host = host;
    this.plans = new Map();
    this.byDomain = new Map();     // to -> [UpstreamConn]
    this.waiters = [];             // { to, resolve }
    this.sockets = new Set();
    this.connectionCount = 0;
  }

  async start() {
    this.server = net.createServer((socket) => this.accept(socket));
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.host, port: 0 }, resolve);
    });
    this.port = this.server.address().port;
    return this;
  }

  /** Sets how the connection(s) for domain `to` behave. */
  plan(to, script) {
    this.plans.set(to, script);
  }

  /** The first (or `index`-th) connection whose stream header named `to`. */
  connection(to, { index = 0, timeoutMs = 5000 } = {}) {
    const existing = this.byDomain.get(to);
    if (existing && existing.length > index) return Promise.resolve(existing[index]);
    return new Promise((resolve, reject) => {
      const waiter = { to, index, resolve };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no upstream connection for ${to} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiter.resolve = (conn) => { clearTimeout(timer); resolve(conn); };
      this.waiters.push(waiter);
    });
  }

  /** All connections seen for `to` so far. */
  connectionsFor(to) {
    return this.byDomain.get(to) || [];
  }

  accept(socket) {
    this.connectionCount += 1;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    // eslint-disable-next-line no-new
    new UpstreamConn(socket, this);
  }

  // Called by a connection when its first stream header arrives.
  identified(conn) {
    const list = this.byDomain.get(conn.to) || [];
    list.push(conn);
    this.byDomain.set(conn.to, list);
    for (const waiter of [...this.waiters]) {
      if (waiter.to === conn.to && list.length > waiter.index) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(list[waiter.index]);
      }
    }
  }

  async stop() {
    for (const socket of this.sockets) socket.destroy();
    if (this.server) await new Promise((resolve) => this.server.close(resolve));
  }
}

/** One c2s connection from switchboard, as the scripted server sees it. */
class UpstreamConn {
  constructor(socket, upstream) {
    this.socket = socket;
    this.upstream = upstream;
    this.reader = new StreamReader();
    this.received = '';        // every byte switchboard sent, as text
    this.headers = [];         // [{ tag, attrs }] in order (a restart adds one)
    this.stanzas = [];         // top-level elements switchboard sent, in order
    this.streamClosed = false; // </stream:stream> received
    this.ended = false;        // TCP: switchboard closed its side
    this.to = null;
    this.plan = {};
    this.waiters = new Waiters();
    this.closed = new Promise((resolve) => socket.once('close', resolve));
    socket.setNoDelay(true);
    this.proxyPending = upstream.proxyProtocol ? Buffer.alloc(0) : null;
    this.proxyHeader = null;
    this.proxySource = null;
    socket.on('data', (chunk) => {
      if (this.proxyPending) {
        chunk = this.takeProxyHeader(chunk);
        if (!chunk) return;
      }
      this.onData(chunk);
    });
    socket.on('end', () => { this.ended = true; this.notify(); });
    socket.on('close', () => { this.ended = true; this.notify(); });
    socket.on('error', () => { /* surfaces as 'close' */ });
  }

  // Buffers until the PROXY header is complete; returns the bytes after it, or
  // null while it is not. A connection without a valid header is destroyed.
  takeProxyHeader(chunk) {
    const bytes = Buffer.concat([this.proxyPending, chunk]);
    const sig = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'binary');
    let length = 0;
    if (bytes.subarray(0, 6).toString('latin1') === 'PROXY ') {
      const end = bytes.indexOf('\r\n');
      if (end < 0) { this.proxyPending = bytes; return null; }
      length = end + 2;
      const fields = bytes.subarray(0, end).toString('latin1').split(' ');
      this.proxySource = fields[1] === 'UNKNOWN' ? null : fields[2];
    } else if (bytes.length >= 16 && bytes.subarray(0, 12).equals(sig)) {
      length = 16 + bytes.readUInt16BE(14);
      if (bytes.length < length) { this.proxyPending = bytes; return null; }
      const family = bytes[13] >> 4;
      if ((bytes[12] & 0x0f) === 1 && family === 1) {
        this.proxySource = Array.from(bytes.subarray(16, 20)).join('.');
      } else if ((bytes[12] & 0x0f) === 1 && family === 2) {
        const words = [];
        for (let i = 0; i < 16; i += 2) words.push(bytes.readUInt16BE(16 + i).toString(16));
        this.proxySource = words.join(':');
      }
    } else if (bytes.length < 16) {
      this.proxyPending = bytes;
      return null;
    } else {
      this.socket.destroy();
      return null;
    }
    this.proxyHeader = bytes.subarray(0, length);
    this.proxyPending = null;
    const rest = bytes.subarray(length);
    return rest.length ? rest : null;
  }

  onData(chunk) {
    this.received += chunk.toString('utf8');
    for (const event of this.reader.feed(chunk)) {
      if (event.type === 'header') {
        this.headers.push({ tag: event.tag, attrs: event.attrs });
        if (this.headers.length === 1) {
          this.to = event.attrs.to;
          this.plan = this.upstream.plans.get(this.to) || {};
          this.upstream.identified(this);
        }
        this.greet(this.headers.length);
      } else if (event.type === 'stanza') {
        this.stanzas.push(event.xml);
        if (this.plan.echo) this.send(event.xml);
      } else if (event.type === 'close') {
        this.streamClosed = true;
      }
    }
    this.notify();
  }

  greet(headerNumber) {
    const plan = this.plan;
    const greet = plan.greet || 'normal';
    if (greet === 'never') return;
    if (greet === 'close') {
      this.socket.end();
      return;
    }
    if (greet === 'garbage') {
      this.send('HTTP/1.1 400 Bad Request\r\n\r\n<<<this is not xmpp>>>');
      return;
    }
    this.send(this.headerText());
    const features = headerNumber === 1
      ? (plan.features === undefined ? DEFAULT_FEATURES : plan.features)
      : (plan.restartFeatures === undefined ? DEFAULT_RESTART_FEATURES : plan.restartFeatures);
    if (features === null) return;
    if (headerNumber === 1 && plan.featuresDelayMs) {
      setTimeout(() => this.send(features), plan.featuresDelayMs);
    } else {
      this.send(features);
    }
  }

  /** The server's stream header, as this connection's plan says. */
  headerText() {
    const plan = this.plan;
    streamCounter += 1;
    this.streamId = plan.id || `stream-${process.pid}-${streamCounter}`;
    const from = plan.from || this.to || 'localhost';
    return "<?xml version='1.0'?>" +
      `<stream:stream xmlns='jabber:client' xmlns:stream='${STREAM_NS}' id='${escapeAttr(this.streamId)}'` +
      ` from='${escapeAttr(from)}' version='${plan.version || '1.0'}' xml:lang='en'${plan.headerExtra || ''}>`;
  }

  /** Writes raw text (or a Buffer) to switchboard. */
  send(data) {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** Closes the TCP connection politely (FIN). */
  close() {
    this.socket.end();
  }

  /** Closes the TCP connection at once. */
  destroy() {
    this.socket.destroy();
  }

  /** Stops reading from switchboard (its writes pile up in the kernel buffers). */
  stopReading() {
    this.socket.pause();
  }

  notify() {
    this.waiters.notify();
  }

  /** Resolves once `predicate()` holds, rejects after `timeoutMs` naming `what`. */
  waitFor(predicate, what, timeoutMs = 5000) {
    return this.waiters.waitFor(predicate, `upstream ${this.to}: ${what}`, timeoutMs,
      () => `received so far: ${JSON.stringify(this.received.slice(-600))}`);
  }

  waitStanzas(count, timeoutMs) {
    return this.waitFor(() => this.stanzas.length >= count, `${count} stanza(s)`, timeoutMs);
  }

  /** Waits for a stanza containing `pattern` (a string or RegExp); resolves with it. */
  async waitStanza(pattern, timeoutMs) {
    const matches = (s) => (typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s));
    await this.waitFor(() => this.stanzas.some(matches), `a stanza matching ${pattern}`, timeoutMs);
    return this.stanzas.find(matches);
  }

  waitHeaders(count, timeoutMs) {
    return this.waitFor(() => this.headers.length >= count, `${count} stream header(s)`, timeoutMs);
  }

  waitStreamClose(timeoutMs) {
    return this.waitFor(() => this.streamClosed, '</stream:stream>', timeoutMs);
  }

  waitEnd(timeoutMs) {
    return this.waitFor(() => this.ended, 'the TCP close', timeoutMs);
  }
}

module.exports = { ScriptedUpstream, UpstreamConn, DEFAULT_FEATURES, DEFAULT_RESTART_FEATURES, STREAM_NS };
