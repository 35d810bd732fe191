'use strict';
// A deliberately small XMPP-over-WebSocket client (RFC 7395) for load benchmarks:
// one raw socket per session (tests/conformance/lib/ws_client.js, Node built-ins
// only), XML handled with a few regular expressions. It logs in the way a web chat
// does (<open/>, SASL PLAIN, the stream restart, resource bind, initial presence)
// and then idles: a WebSocket session needs nothing more than its connection, so
// an idle session sends nothing at all.

const path = require('node:path');
const { WsClient, FRAMING_NS } = require(path.join(__dirname, '..', 'tests', 'conformance', 'lib', 'ws_client'));

const SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const BIND = 'urn:ietf:params:xml:ns:xmpp-bind';

class LightWsSession {
  /** `url`: ws://127.0.0.1:PORT/path. */
  constructor(url) {
    const u = new URL(url);
    this.port = Number(u.port);
    this.path = u.pathname;
    this.client = null;
  }

  async login(user, password, { domain = 'localhost', timeoutMs = 20000 } = {}) {
    const c = await WsClient.open(this.port, { path: this.path, timeoutMs });
    this.client = c;
    if (c.status !== 101) throw new Error(`handshake: ${c.head}`);
    // Each step waits for the n-th text frame matching what it expects.
    let seen = 0;
    const next = async (pattern, what) => {
      await c.waitFor(() => c.texts().slice(seen).some((t) => pattern.test(t)), what, timeoutMs);
      const texts = c.texts();
      const index = texts.slice(seen).findIndex((t) => pattern.test(t)) + seen;
      seen = index + 1;
      return texts[index];
    };
    const open = () => c.sendText(`<open xmlns='${FRAMING_NS}' to='${domain}' version='1.0' xml:lang='en'/>`);
    open();
    await next(/<stream:features/, 'features');
    const plain = Buffer.from(`\0${user}\0${password}`).toString('base64');
    c.sendText(`<auth xmlns='${SASL}' mechanism='PLAIN'>${plain}</auth>`);
    const answer = await next(/<(success|failure)/, 'SASL answer');
    if (!/<success/.test(answer)) throw new Error(`SASL: ${answer}`);
    open();
    await next(/<stream:features[\s\S]*bind/, 'restart features');
    c.sendText(`<iq type='set' id='bind1' xmlns='jabber:client'><bind xmlns='${BIND}'/></iq>`);
    const bound = await next(/id=['"]bind1['"]/, 'bind result');
    if (!/type=['"]result['"]/.test(bound)) throw new Error(`bind: ${bound}`);
    // Some servers still want the RFC 3921 session; harmless where it is not.
    c.sendText("<iq type='set' id='sess1' xmlns='jabber:client'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
    await next(/id=['"]sess1['"]/, 'session result');
    c.sendText("<presence xmlns='jabber:client'/>");
    // Later frames (presence echo...) need not be kept: drop what was read.
    c.frames.length = 0;
  }

  /** Ends the stream politely: <close/>, then our close frame after the server's. */
  async logout({ timeoutMs = 10000 } = {}) {
    const c = this.client;
    if (!c || c.tcpEnded) return;
    c.sendText(`<close xmlns='${FRAMING_NS}'/>`);
    await c.waitCloseFrame(timeoutMs);
    c.sendClose(1000);
    await c.waitEnd(timeoutMs);
  }

  destroy() {
    if (this.client) this.client.destroy();
  }
}

module.exports = { LightWsSession };
