'use strict';
// Conformance: overactivity (checklist R9 too many requests, R10 too frequent
// polling, R11 polling sessions) with the default polling interval of 2 s.
//
// With hold=1 the window allows requests = 2, so "too many" needs a held
// request plus an early one (a gap in the rids) before a third arrives. The
// spaced-out variants wait just over 2 s; the file runs its tests concurrently.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const {
  useStack, openSession, openBystander, assertAlive, assertWrapper, assertTerminate, assertEmptyBody,
  assertSessionGone, stillPending, attrPattern, sleep,
} = require('./lib/stack');

const stack = useStack();

describe('overactivity', { concurrency: true }, () => {
  test('R9: more than `requests` requests outstanding ends the session with policy-violation', async () => {
    const bystander = await openBystander(stack);
    const { session, conn } = await openSession(stack, 'toomany');
    const r = session.rid;
    const held = session.send({ rid: r + 1 });
    assert.ok(await stillPending(held, 100));
    const early = session.send({ rid: r + 3, payload: "<message id='early' to='a@b'/>" });
    assert.ok(await stillPending(early, 100));
    const third = await session.send({ rid: r + 2, payload: "<message id='third' to='a@b'/>" });
    assertTerminate(third, 'policy-violation');
    assertTerminate(await held, 'policy-violation');
    assertTerminate(await early, 'policy-violation');
    await conn.waitStreamClose();
    assert.equal(conn.stanzas.length, 0, 'nothing is forwarded');
    await assertSessionGone(session);
    await assertAlive(bystander, 'bystander');
  });

  test('R9: one request beyond `requests` is allowed to terminate', async () => {
    const { session, conn } = await openSession(stack, 'toomanyterminate');
    const r = session.rid;
    const held = session.send({ rid: r + 1 });
    assert.ok(await stillPending(held, 100));
    // A payload, so the early request is not a too-frequent empty poll (R10).
    const early = session.send({ rid: r + 3, payload: "<message id='early' to='a@b'/>" });
    assert.ok(await stillPending(early, 100));
    const end = await session.send({ rid: r + 2, attrs: { type: 'terminate' }, payload: "<presence type='unavailable'/>" });
    assertTerminate(end, undefined);
    assertEmptyBody(await held);
    await conn.waitStreamClose();
    assert.match(conn.stanzas[0], /<presence /, 'the terminate payload is forwarded');
    // The early request comes after the end: it hears that the session is over.
    assertTerminate(await early, undefined);
  });

  test('R9: one request beyond `requests` is allowed to pause', async () => {
    const { session, conn } = await openSession(stack, 'toomanypause');
    const r = session.rid;
    const held = session.send({ rid: r + 1 });
    assert.ok(await stillPending(held, 100));
    const early = session.send({ rid: r + 3, payload: "<message id='after-pause' to='a@b'/>" });
    assert.ok(await stillPending(early, 100));
    const pause = await session.send({ rid: r + 2, attrs: { pause: '10' } });
    assertEmptyBody(pause);
    assertEmptyBody(await held);
    // The early request is processed after the pause and held as usual.
    await conn.waitStanza(attrPattern('id', 'after-pause'));
    conn.send("<message id='resumed' from='a@b'/>");
    assert.match((await early).payload, attrPattern('id', 'resumed'));
  });

  test('R10: a second empty poll within `polling` while all requests are in use: policy-violation', async () => {
    const bystander = await openBystander(stack);
    const { session, conn } = await openSession(stack, 'toofrequent');
    const held = session.send();
    assert.ok(await stillPending(held, 100));
    const second = await session.send();
    assertTerminate(second, 'policy-violation');
    assertTerminate(await held, 'policy-violation');
    await conn.waitStreamClose();
    await assertAlive(bystander, 'bystander');
  });

  test('R10: empty polls spaced by more than `polling` are fine', async () => {
    const { session } = await openSession(stack, 'spaced');
    const held = session.send();
    await sleep(2100);
    const second = session.send();
    assertEmptyBody(await held);
    assert.ok(await stillPending(second, 200), 'the second poll is held');
  });

  test('R10: a request with payload right after an empty poll is fine', async () => {
    const { session, conn } = await openSession(stack, 'payloadafterpoll');
    const held = session.send();
    assert.ok(await stillPending(held, 100));
    const second = session.send({ payload: "<message id='p' to='a@b'/>" });
    assertEmptyBody(await held);
    await conn.waitStanzas(1);
    conn.send("<message id='p-back'/>");
    assertWrapper(await second);
  });

  test('R11: a polling session (hold=0) is answered at once', async () => {
    const { session, conn } = await openSession(stack, 'polling', { attrs: { hold: '0' } });
    assert.equal(session.creation.attrs.hold, '0');
    assert.equal(session.creation.attrs.requests, '1');
    const started = Date.now();
    const reply = await session.send({ payload: "<message id='poll-1' to='a@b'/>" });
    assert.ok(Date.now() - started < 500, 'answered at once');
    assertEmptyBody(reply);
    await conn.waitStanzas(1);
    conn.send("<message id='poll-back' from='a@b'/>");
    await sleep(100);
    const next = await session.send({ payload: "<message id='poll-2' to='a@b'/>" });
    assert.match(next.payload, attrPattern('id', 'poll-back'));
  });

  test('R11: hold=0: two empty polls within `polling`, the first answered empty: policy-violation', async () => {
    const bystander = await openBystander(stack);
    const { session, conn } = await openSession(stack, 'pollfast', { attrs: { hold: '0' } });
    assertEmptyBody(await session.send());
    assertTerminate(await session.send(), 'policy-violation');
    await conn.waitStreamClose();
    await assertAlive(bystander, 'bystander');
  });

  test('R11: hold=0: an empty poll right after a response with data is fine', async () => {
    const { session, conn } = await openSession(stack, 'polldata', { attrs: { hold: '0' } });
    assertEmptyBody(await session.send());
    await sleep(2100);
    conn.send("<message id='data' from='a@b'/>");
    await sleep(100);
    const withData = await session.send();
    assert.match(withData.payload, attrPattern('id', 'data'));
    assertEmptyBody(await session.send());
  });

  test('R11: hold=0: empty polls spaced by more than `polling` are fine', async () => {
    const { session } = await openSession(stack, 'pollslow', { attrs: { hold: '0' } });
    assertEmptyBody(await session.send());
    await sleep(2100);
    assertEmptyBody(await session.send());
  });
});
