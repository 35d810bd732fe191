'use strict';
// Conformance: §1.8 system-shutdown. When switchboard is told to stop (SIGTERM),
// every held request hears type='terminate' condition='system-shutdown', every
// server stream is closed with </stream:stream>, and the process exits.
//
// This file stops its own switchboard, so it is a file of its own: the stop in
// the shared after() hook is then a no-op.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { useStack, openSession, assertTerminate, stillPending } = require('./lib/stack');

const stack = useStack();

test('§1.8 system-shutdown: on SIGTERM held requests hear system-shutdown and server streams are closed', async () => {
  const busy = await openSession(stack, 'busy');
  const idle = await openSession(stack, 'idle');
  const held = busy.session.send();
  assert.ok(await stillPending(held, 200));
  process.kill(stack.sb.child.pid, 'SIGTERM');
  assertTerminate(await held, 'system-shutdown');
  await busy.conn.waitStreamClose();
  await idle.conn.waitStreamClose();
  const status = await stack.sb.child.exited;
  assert.equal(status, 0, `switchboard exit status ${status}`);
});
