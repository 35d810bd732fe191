'use strict';
// Conformance: the limits of XMPP over WebSocket. WebSocket sessions count with
// BOSH's in max_sessions (a handshake over it gets HTTP 503 with Retry-After, as a
// BOSH creation does) and in max_sessions_per_ip (the <open/> gets a
// policy-violation stream error, as a BOSH creation gets policy-violation); a
// connection is a session from its upgrade to its close. A silent client is
// pinged after websocket_ping_interval and dropped websocket_pong_timeout later;
// one that never sends its <open/> is dropped after http_header_timeout. One
// switchboard per concern, each with small numbers.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { useStack, uniqueDomain, assertTerminate, sleep } = require('./lib/stack');
const { BoshSession, sendBody, bodyXml } = require('../lib/bosh');
const { WsClient, OP, destroyWsSockets } = require('./lib/ws_client');

after(() => destroyWsSockets());

const total = useStack({ max_sessions: 2 });
const perIp = useStack({ max_sessions_per_ip: 1 });
const keepAlive = useStack({ websocket_ping_interval: 1, websocket_pong_timeout: 1, http_header_timeout: 1 });

/** An upgraded connection with an open stream on `stack`: { c, conn, to }. */
async function openStream(stack, label) {
  const to = uniqueDomain(label);
  const c = await WsClient.open(stack.port);
  assert.equal(c.status, 101, c.head);
  c.sendOpen(to);
  const conn = await stack.upstream.connection(to);
  await c.frame(1);  // <open/> and features
  return { c, conn, to };
}

test('WS-L1 max_sessions counts WebSocket and BOSH sessions together: over it, 503 with Retry-After', async () => {
  const ws = await openStream(total, 'cap-ws');
  const bosh = await BoshSession.create(total.port, uniqueDomain('cap-bosh'));
  assert.ok(bosh.sid, 'the second session (BOSH) fits');
  const refused = await WsClient.open(total.port);
  assert.equal(refused.status, 503, refused.head);
  assert.equal(refused.headers['retry-after'], '1');
  await refused.waitEnd();
  const boshRefused = await sendBody(total.port, bodyXml(BoshSession.creationAttrs(uniqueDomain('cap-bosh2'))));
  assert.equal(boshRefused.status, 503, 'a BOSH creation is refused the same way');
  // The WebSocket session ends: its place is free again.
  ws.c.destroy();
  await ws.conn.waitStreamClose();
  await sleep(100);
  const again = await WsClient.open(total.port);
  assert.equal(again.status, 101, again.head);
  again.destroy();
});

test('WS-L2 max_sessions_per_ip: the <open/> over the cap gets policy-violation, after our <open/>', async () => {
  const first = await openStream(perIp, 'perip');
  const second = await WsClient.open(perIp.port);
  assert.equal(second.status, 101, 'the handshake itself is accepted');
  second.sendOpen(uniqueDomain('perip2'));
  const close = await second.waitCloseFrame();
  assert.equal(close.closeCode, 1000);
  const texts = second.texts();
  assert.match(texts[0], /^<open /);
  assert.match(texts[1], /<policy-violation /);
  assert.match(texts[2], /^<close /);
  // A BOSH creation from the same address is over the cap too.
  const reply = await sendBody(perIp.port, bodyXml(BoshSession.creationAttrs(uniqueDomain('perip-bosh'))));
  assertTerminate(reply, 'policy-violation');
  first.c.destroy();
  await first.conn.waitStreamClose();
  await sleep(100);
  const third = await openStream(perIp, 'perip3');
  third.c.destroy();
});

test('WS-L3 keep-alive: a silent client is pinged; one that answers stays', async () => {
  const { c, conn } = await openStream(keepAlive, 'answers');
  c.waiters.listeners.add(() => {
    for (const f of c.frames) {
      if (f.opcode === OP.ping && !f.answered) {
        f.answered = true;
        c.sendFrame(OP.pong, f.payload);
      }
    }
  });
  await c.waitFor(() => c.frames.filter((f) => f.opcode === OP.ping).length >= 2, 'two pings', 6000);
  assert.ok(!c.tcpEnded, 'a client answering pings is kept');
  c.sendText("<message id='alive'/>");
  await conn.waitStanza(/alive/);
  c.destroy();
});

test('WS-L4 keep-alive: a client that does not answer the ping is dropped and its server stream closed', async () => {
  const { c, conn } = await openStream(keepAlive, 'silent');
  const started = Date.now();
  await c.waitFor(() => c.frames.some((f) => f.opcode === OP.ping), 'a ping', 3000);
  await c.waitEnd(4000);
  await conn.waitStreamClose();
  assert.ok(Date.now() - started >= 1500, 'not before the ping interval and the pong timeout');
});

test('WS-L5 a connection that never sends <open/> is closed after http_header_timeout', async () => {
  const c = await WsClient.open(keepAlive.port);
  assert.equal(c.status, 101);
  await c.waitEnd(4000);
});
