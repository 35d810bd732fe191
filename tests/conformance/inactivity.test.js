'use strict';
// Conformance: inactivity (R8, and the configurable `inactivity` of §1.3) and
// the way pause stretches it (R12). These tests measure time, so switchboard runs
// with short values (inactivity 2 s, maxpause 4 s, polling 1 s) and the tests run
// concurrently: the file takes about as long as its slowest test.
//
// Times are measured from when the test saw the relevant response to when the
// scripted server sees </stream:stream>; the bounds leave room for the 50 ms
// timer tick and a loaded machine, but are tight enough to tell 2 s from 3 s
// from 4 s.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const {
  useStack, openSession, openBystander, assertWrapper, assertEmptyBody, assertSessionGone, attrPattern,
} = require('./lib/stack');

const stack = useStack({ inactivity: 2, polling: 1, maxpause: 4 });

/** Ms from `since` until the server side of `conn` sees </stream:stream>. */
async function msUntilClosed(conn, since, timeoutMs = 9000) {
  await conn.waitStreamClose(timeoutMs);
  return Date.now() - since;
}

function assertBetween(value, low, high, what) {
  assert.ok(value >= low && value <= high, `${what}: ${value} ms, expected ${low}..${high} ms`);
}

describe('inactivity and pause', { concurrency: true }, () => {
  test('§1.3 inactivity: the configured inactivity, polling and maxpause are advertised', async () => {
    const { session } = await openSession(stack, 'advertised');
    assert.equal(session.creation.attrs.inactivity, '2');
    assert.equal(session.creation.attrs.polling, '1');
    assert.equal(session.creation.attrs.maxpause, '4');
  });

  test('R8: a session with no request for longer than inactivity ends silently: ' +
    'the server gets </stream:stream>, a later request gets item-not-found', async () => {
    // The bystander keeps a request held (wait 10 s), so it outlives the victim.
    const bystander = await openBystander(stack);
    const bystanderHeld = bystander.session.send();
    const { session, conn } = await openSession(stack, 'idle');
    const answered = session.creation.res.receivedAt;
    assertBetween(await msUntilClosed(conn, answered), 1800, 3300, 'session end after the last response');
    await conn.waitEnd();
    await assertSessionGone(session);
    bystander.conn.send("<message id='still-here' from='a@b'/>");
    const reply = await bystanderHeld;
    assertWrapper(reply);
    assert.match(reply.payload, attrPattern('id', 'still-here'));
  });

  test('R8: a held request keeps the session alive longer than inactivity', async () => {
    const { session, conn } = await openSession(stack, 'heldalive', { attrs: { wait: '3' } });
    const started = Date.now();
    const reply = await session.send();
    assertEmptyBody(reply);
    assert.ok(Date.now() - started >= 2800, 'held for the whole wait');
    assert.equal(conn.streamClosed, false, 'the session is still open after 3 s');
    const next = session.send({ payload: "<message id='alive' to='a@b'/>" });
    await conn.waitStanza(attrPattern('id', 'alive'));
    conn.send("<message id='alive-back' from='a@b'/>");
    assert.match((await next).payload, attrPattern('id', 'alive-back'));
  });

  test('R12: pause extends inactivity to the pause value', async () => {
    const { session, conn } = await openSession(stack, 'pause3');
    const pause = await session.send({ attrs: { pause: '3' } });
    assertEmptyBody(pause);
    assertBetween(await msUntilClosed(conn, pause.res.receivedAt), 2800, 4300, 'end after pause=3');
    await assertSessionGone(session);
  });

  test('R12: pause is capped at maxpause', async () => {
    const { session, conn } = await openSession(stack, 'pause60');
    const pause = await session.send({ attrs: { pause: '60' } });
    assertEmptyBody(pause);
    assertBetween(await msUntilClosed(conn, pause.res.receivedAt), 3800, 5300, 'end after pause=60, maxpause=4');
  });

  test('R12: the next request after a pause restores the normal inactivity', async () => {
    const { session, conn } = await openSession(stack, 'pauseonce');
    assertEmptyBody(await session.send({ attrs: { pause: '60' } }));
    const next = session.send({ payload: "<message id='back' to='a@b'/>" });
    await conn.waitStanza(attrPattern('id', 'back'));
    conn.send("<message id='welcome-back' from='a@b'/>");
    const reply = await next;
    assert.match(reply.payload, attrPattern('id', 'welcome-back'));
    assertBetween(await msUntilClosed(conn, reply.res.receivedAt), 1800, 3300, 'end after the request that followed the pause');
  });
});
