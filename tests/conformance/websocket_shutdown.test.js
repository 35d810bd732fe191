'use strict';
// Conformance: a WebSocket session on SIGTERM. The drain ends every WebSocket
// stream as BOSH ends its sessions with system-shutdown: <close/>, then close
// frame 1001 (going away), the server stream closed with </stream:stream>; the
// daemon exits cleanly. This file stops its own switchboard (like shutdown.test.js).

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { useStack, uniqueDomain } = require('./lib/stack');
const { WsClient, FRAMING_NS, destroyWsSockets } = require('./lib/ws_client');

const stack = useStack();
after(() => destroyWsSockets());

test('WS-S1 on SIGTERM a WebSocket session gets <close/> and close 1001, its server stream is closed', async () => {
  const to = uniqueDomain('drain');
  const c = await WsClient.open(stack.port);
  c.sendOpen(to);
  const conn = await stack.upstream.connection(to);
  await c.frame(1);
  const waiting = await WsClient.open(stack.port);  // upgraded, no <open/> yet
  assert.equal(waiting.status, 101);
  process.kill(stack.sb.child.pid, 'SIGTERM');
  const close = await c.waitCloseFrame();
  assert.equal(close.closeCode, 1001, close.describe());
  assert.match(c.texts().at(-1), new RegExp(`^<close xmlns=(['"])${FRAMING_NS}\\1/>$`));
  c.sendClose(1001);
  await conn.waitStreamClose();
  await c.waitEnd();
  await waiting.waitEnd();
  const status = await stack.sb.child.exited;
  assert.equal(status, 0, `switchboard exit status ${status}`);
});
