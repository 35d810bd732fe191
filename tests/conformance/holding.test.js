'use strict';
// Conformance: holding requests and answering them (checklist R3, R4, R7),
// pausing (R12: the immediate part; the inactivity part is in
// inactivity.test.js) and terminating (R13).
//
// Sessions use hold=1 (requests=2), as Strophe does. A second request is always
// sent with a payload so that no test here looks like too-frequent polling (R10).

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  useStack, openSession, openBystander, assertAlive, assertWrapper, assertTerminate, assertEmptyBody,
  assertSessionGone, stillPending, attrPattern, sleep,
} = require('./lib/stack');

const stack = useStack();

test('R3: hold=1: a new request releases the older held one with an empty body', async () => {
  const { session, conn } = await openSession(stack, 'release');
  const first = session.send();
  assert.ok(await stillPending(first, 300), 'the first request is held');
  const second = session.send({ payload: "<message id='r3' to='a@b'/>" });
  assertEmptyBody(await first);
  await conn.waitStanza(attrPattern('id', 'r3'));
  assert.ok(await stillPending(second, 200), 'the second request is held in its place');
  conn.send("<message id='r3-answer' from='a@b'/>");
  const reply = await second;
  assertWrapper(reply);
  assert.match(reply.payload, attrPattern('id', 'r3-answer'));
});

test('R3/R4: a request arriving while server data is queued is answered at once with it', async () => {
  const { session, conn } = await openSession(stack, 'queued');
  conn.send("<message id='q1' from='a@b'/><message id='q2' from='a@b'/>");
  await sleep(150);  // queued: no request is held
  const started = Date.now();
  const reply = await session.send();
  assert.ok(Date.now() - started < 500, 'answered at once');
  assertWrapper(reply);
  assert.equal(reply.elements.length, 2, reply.describe());
  assert.match(reply.elements[0], attrPattern('id', 'q1'));
  assert.match(reply.elements[1], attrPattern('id', 'q2'));
});

test('R4: with no server data, a held request is answered with an empty <body/> after wait', async () => {
  const { session } = await openSession(stack, 'wait', { attrs: { wait: '1' } });
  assert.equal(session.creation.attrs.wait, '1');
  const started = Date.now();
  const reply = await session.send();
  const elapsed = Date.now() - started;
  assertEmptyBody(reply);
  assert.ok(elapsed >= 900 && elapsed < 2500, `answered after ${elapsed} ms, wait is 1 s`);
});

test('R4: server data is delivered to the held request as soon as it arrives', async () => {
  const { session, conn } = await openSession(stack, 'asap');
  const pending = session.send();
  await sleep(200);
  const sent = Date.now();
  conn.send("<message id='fast' from='a@b'/>");
  const reply = await pending;
  assert.ok(Date.now() - sent < 400, `delivered after ${Date.now() - sent} ms`);
  assert.match(reply.payload, attrPattern('id', 'fast'));
});

test('R7: a client that sends its next request right after each response keeps the session', async () => {
  const { session, conn } = await openSession(stack, 'loop', { attrs: { wait: '1' } });
  for (let i = 0; i < 3; i += 1) {
    const pending = session.send();
    if (i === 1) conn.send(`<message id='loop-${i}' from='a@b'/>`);
    const reply = await pending;
    assertWrapper(reply);
    assert.equal(reply.type, undefined, reply.describe());
  }
});

test('R12: pause answers the held request and itself at once, with no payload', async () => {
  const { session, conn } = await openSession(stack, 'pause');
  assert.equal(session.creation.attrs.maxpause, '120');
  const held = session.send();
  assert.ok(await stillPending(held, 200));
  const started = Date.now();
  const pause = await session.send({ attrs: { pause: '30' } });
  assert.ok(Date.now() - started < 500, 'the pause request is answered at once');
  assertEmptyBody(await held);
  assertEmptyBody(pause);
  // The session lives on after the pause.
  await assertAlive({ session, conn }, 'after pause');
});

test('R12: a pause response carries no payload; queued data waits for the next request', async () => {
  const { session, conn } = await openSession(stack, 'pausequeued');
  conn.send("<message id='kept' from='a@b'/>");
  await sleep(150);
  const pause = await session.send({ attrs: { pause: '30' } });
  assertEmptyBody(pause);
  const next = await session.send();
  assertWrapper(next);
  assert.match(next.payload, attrPattern('id', 'kept'));
});

test('R12: a pause longer than maxpause is accepted (capped, see inactivity.test.js)', async () => {
  const { session, conn } = await openSession(stack, 'longpause');
  assertEmptyBody(await session.send({ attrs: { pause: '100000' } }));
  await assertAlive({ session, conn }, 'after a long pause');
});

test('R13: terminate forwards its payload, then </stream:stream>; the held request is answered; ' +
  'the terminate request gets type=terminate with no condition', async () => {
  const bystander = await openBystander(stack);
  const { session, conn } = await openSession(stack, 'terminate');
  const held = session.send();
  assert.ok(await stillPending(held, 200));
  const end = await session.send({
    attrs: { type: 'terminate' }, payload: "<presence type='unavailable' id='bye'/>",
  });
  assertTerminate(end, undefined);
  assert.ok(end.isEmpty, end.describe());
  // (Both answers leave in the same loop turn on two connections: the order in
  // which they arrive here says nothing, so it is not checked.)
  assertEmptyBody(await held);
  await conn.waitStreamClose();
  assert.match(conn.stanzas[conn.stanzas.length - 1], attrPattern('id', 'bye'));
  const bye = conn.received.search(/id=['"]bye['"]/);
  assert.ok(bye > 0 && bye < conn.received.indexOf('</stream:stream>'), 'the payload goes before the close');
  await conn.waitEnd();
  await assertSessionGone(session);
  await assertAlive(bystander, 'bystander');
});

test('R13: the terminate response carries the server data still queued', async () => {
  const { session, conn } = await openSession(stack, 'terminatequeued');
  conn.send("<message id='last-words' from='a@b'/>");
  await sleep(150);
  const end = await session.send({ attrs: { type: 'terminate' } });
  assertTerminate(end, undefined);
  assert.match(end.payload, attrPattern('id', 'last-words'));
  await conn.waitStreamClose();
});

test('R13: an empty terminate ends the session cleanly', async () => {
  const { session, conn } = await openSession(stack, 'terminateempty');
  const end = await session.send({ attrs: { type: 'terminate' } });
  assertTerminate(end, undefined);
  await conn.waitStreamClose();
  assert.equal(conn.stanzas.length, 0);
  await assertSessionGone(session);
});
