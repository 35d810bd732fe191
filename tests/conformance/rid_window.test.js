'use strict';
// Conformance: the rid sequence (checklist R1, R2, R5, R6, R14, A4) and the
// errors a request can earn by its rid or sid (§1.8: bad-request,
// item-not-found, and their legacy HTTP codes).
//
// Every destructive test opens a bystander session first and checks it still
// works afterwards: nothing one session does may hurt another.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
  useStack, openSession, openBystander, assertAlive, assertWrapper, assertTerminate, assertEmptyBody,
  assertHttpError, assertSessionGone, stillPending, attrPattern, sleep,
} = require('./lib/stack');
const { bodyXml, sendBody, BoshSession } = require('../lib/bosh');

const stack = useStack();

test('R1: an early rid waits for the gap; payloads reach the server and responses leave in rid order', async () => {
  const { session, conn } = await openSession(stack, 'order');
  const r = session.rid;
  const second = session.send({ rid: r + 2, payload: "<message id='B' to='a@b'/>" });
  assert.ok(await stillPending(second, 300), 'rid+2 must wait for rid+1');
  assert.equal(conn.stanzas.length, 0, 'the early payload must not be forwarded before the gap fills');
  const first = session.send({ rid: r + 1, payload: "<message id='A' to='a@b'/>" });
  await conn.waitStanzas(2);
  assert.match(conn.stanzas[0], attrPattern('id', 'A'));
  assert.match(conn.stanzas[1], attrPattern('id', 'B'));
  // hold=1: rid+1 is released by rid+2, which then carries the server's answer.
  const firstReply = await first;
  assertEmptyBody(firstReply);
  assert.ok(await stillPending(second, 100), 'rid+2 is held after rid+1 was answered');
  conn.send("<message id='answer' from='a@b'/>");
  const secondReply = await second;
  assertWrapper(secondReply);
  assert.match(secondReply.payload, attrPattern('id', 'answer'));
  assert.ok(firstReply.res.receivedAt <= secondReply.res.receivedAt, 'responses in rid order');
});

test('R2: a valid request gets HTTP 200 and a <body/> carrying the server\'s stanzas', async () => {
  const { session, conn } = await openSession(stack, 'r2', { plan: { echo: true } });
  const reply = await session.send({ payload: "<iq type='get' id='echo-me'><ping xmlns='urn:xmpp:ping'/></iq>" });
  assertWrapper(reply);
  assert.equal(reply.type, undefined);
  assert.equal(reply.elements.length, 1, reply.describe());
  assert.match(reply.elements[0], attrPattern('id', 'echo-me'));
  assert.equal(conn.stanzas.length, 1);
});

test('R5: an empty request is a poll, held and answered like any other', async () => {
  const { session, conn } = await openSession(stack, 'poll');
  const pending = session.send();
  assert.ok(await stillPending(pending, 400), 'an empty request is held');
  conn.send("<message id='polled' from='a@b'><body>x</body></message>");
  const reply = await pending;
  assertWrapper(reply);
  assert.match(reply.payload, attrPattern('id', 'polled'));
});

test('R6: rid above the window ends the session with item-not-found', async () => {
  const bystander = await openBystander(stack);
  const { session, conn } = await openSession(stack, 'window');
  const r = session.rid;
  const held = session.send({ rid: r + 1 });
  assert.ok(await stillPending(held, 200));
  // last processed = r+1, requests = 2: r+3 is the top of the window, r+4 beyond it.
  const beyond = await session.send({ rid: r + 4, payload: "<message id='never' to='a@b'/>" });
  assertTerminate(beyond, 'item-not-found');
  assertTerminate(await held, 'item-not-found');
  await conn.waitStreamClose();
  assert.equal(conn.stanzas.length, 0, 'the out-of-window payload is not forwarded');
  await assertSessionGone(session);
  await assertAlive(bystander, 'bystander');
});

test('R6: the top of the window (last + requests) is accepted and kept early', async () => {
  const { session, conn } = await openSession(stack, 'windowtop');
  const r = session.rid;
  const top = session.send({ rid: r + 2, payload: "<message id='top' to='a@b'/>" });
  assert.ok(await stillPending(top, 300));
  const gap = session.send({ rid: r + 1, payload: "<message id='gap' to='a@b'/>" });
  await conn.waitStanzas(2);
  assertEmptyBody(await gap);
  conn.send("<message id='x' from='a@b'/>");
  assert.match((await top).payload, attrPattern('id', 'x'));
});

test('R14: a repeated rid that was answered gets the byte-identical cached response', async () => {
  const { session, conn } = await openSession(stack, 'cache');
  const rid = session.rid + 1;
  const xml = session.xml({ rid, payload: "<iq type='get' id='c1'/>" });
  const pending = sendBody(stack.port, xml);
  session.rid = rid;
  await conn.waitStanzas(1);
  conn.send("<iq type='result' id='c1'><query xmlns='jabber:iq:version'><name>x</name></query></iq>");
  const original = await pending;
  assertWrapper(original);
  const repeat = await sendBody(stack.port, xml);
  assert.equal(repeat.status, 200);
  assert.equal(repeat.contentType, original.contentType);
  assert.ok(repeat.res.bodyBytes.equals(original.res.bodyBytes), `${repeat.text} != ${original.text}`);
  await sleep(50);
  assert.equal(conn.stanzas.length, 1, 'a repeat is not forwarded again');
  await assertAlive({ session, conn });
});

test('R14/A4: a repeat of a rid still held: the older connection gets type=error, the new one takes its place', async () => {
  const { session, conn } = await openSession(stack, 'heldrepeat');
  const rid = session.rid + 1;
  const older = session.send({ rid });
  assert.ok(await stillPending(older, 200));
  const newer = session.send({ rid });
  const olderReply = await older;
  assertWrapper(olderReply);
  assert.equal(olderReply.type, 'error', olderReply.describe());
  assert.equal(olderReply.condition, undefined);
  assert.ok(olderReply.isEmpty);
  assert.ok(await stillPending(newer, 200), 'the repeat is held in its place');
  conn.send("<message id='to-newer' from='a@b'/>");
  const newerReply = await newer;
  assertWrapper(newerReply);
  assert.match(newerReply.payload, attrPattern('id', 'to-newer'));
});

test('A4: after a recoverable type=error the session carries on', async () => {
  const { session, conn } = await openSession(stack, 'recover');
  const rid = session.rid + 1;
  const older = session.send({ rid, payload: "<message id='once' to='a@b'/>" });
  await conn.waitStanzas(1);
  const newer = session.send({ rid, payload: "<message id='once' to='a@b'/>" });
  assert.equal((await older).type, 'error');
  conn.send("<message id='reply' from='a@b'/>");
  assert.match((await newer).payload, attrPattern('id', 'reply'));
  await sleep(50);
  assert.equal(conn.stanzas.length, 1, 'the resent payload is not forwarded twice');
  await assertAlive({ session, conn });
});

test('R14: a repeat of an early rid (not yet processed) replaces it; the older copy gets type=error', async () => {
  const { session, conn } = await openSession(stack, 'earlyrepeat');
  const r = session.rid;
  const older = session.send({ rid: r + 2, payload: "<message id='e2' to='a@b'/>" });
  assert.ok(await stillPending(older, 200));
  const newer = session.send({ rid: r + 2, payload: "<message id='e2' to='a@b'/>" });
  assert.equal((await older).type, 'error');
  const gap = session.send({ rid: r + 1, payload: "<message id='e1' to='a@b'/>" });
  await conn.waitStanzas(2);
  assert.match(conn.stanzas[0], attrPattern('id', 'e1'));
  assert.match(conn.stanzas[1], attrPattern('id', 'e2'));
  assertEmptyBody(await gap);
  conn.send("<message id='late' from='a@b'/>");
  assert.match((await newer).payload, attrPattern('id', 'late'));
});

test('R14: an answered rid no longer cached ends the session with item-not-found', async () => {
  const bystander = await openBystander(stack);
  const { session, conn } = await openSession(stack, 'uncached', { plan: { echo: true } });
  const first = session.rid + 1;
  for (let i = 1; i <= 3; i += 1) {
    const reply = await session.send({ payload: `<message id='n${i}' to='a@b'/>` });
    assert.match(reply.payload, attrPattern('id', `n${i}`));
  }
  // requests = 2 responses are kept: rid+2 and rid+3, not rid+1.
  const cached = await session.send({ rid: first + 1, payload: "<message id='n2' to='a@b'/>" });
  assert.match(cached.payload, attrPattern('id', 'n2'));
  const gone = await session.send({ rid: first, payload: "<message id='n1' to='a@b'/>" });
  assertTerminate(gone, 'item-not-found');
  await conn.waitStreamClose();
  await assertSessionGone(session);
  await assertAlive(bystander, 'bystander');
});

const badRids = [
  ['missing', undefined], ['empty', ''], ['not a number', 'abc'], ['zero', '0'], ['negative', '-1'],
  ['trailing garbage', '12abc'], ['fractional', '1.5'], ['leading space', ' 12'], ['2^53', '9007199254740992'],
  ['20 digits', '99999999999999999999'],
];

for (const [what, rid] of badRids) {
  test(`§1.8 bad-request: rid ${what} -> terminate bad-request; the named session is not ended`, async () => {
    const { session, conn } = await openSession(stack, 'badrid');
    const reply = await sendBody(stack.port, bodyXml({ rid, sid: session.sid }, "<message id='bad' to='a@b'/>"));
    assertTerminate(reply, 'bad-request');
    await assertAlive({ session, conn }, `after rid ${what}`);
    assert.equal(conn.stanzas.filter((s) => /id=.bad/.test(s)).length, 0, 'the payload is not forwarded');
  });
}

test('§1.8 bad-request: a legacy session (no ver) gets HTTP 400 for a bad rid, and is not ended', async () => {
  const { session, conn } = await openSession(stack, 'legacyrid', { attrs: { ver: undefined } });
  const reply = await sendBody(stack.port, bodyXml({ rid: 'abc', sid: session.sid }));
  assertHttpError(reply, 400);
  await assertAlive({ session, conn }, 'legacy session after a bad rid');
});

test('§1.8 bad-request: a creation request with a bad rid: terminate bad-request (HTTP 400 legacy)', async () => {
  const attrs = BoshSession.creationAttrs('badcreation.test', { rid: 'x1' });
  assertTerminate(await sendBody(stack.port, bodyXml(attrs)), 'bad-request');
  const legacy = await sendBody(stack.port, bodyXml({ ...attrs, ver: undefined }));
  assertHttpError(legacy, 400);
  assert.equal(stack.upstream.connectionsFor('badcreation.test').length, 0, 'no upstream is opened');
});

test('§1.8 item-not-found: an unknown sid: terminate item-not-found, with or without ver', async () => {
  // Only a live session (or a creation request) tells whether a client is legacy:
  // a request for an unknown sid is answered the modern way, as Prosody and ejabberd do.
  const bystander = await openBystander(stack);
  const unknown = 'AAAAAAAAAAAAAAAAAAAAAA';
  assertTerminate(await sendBody(stack.port, bodyXml({ rid: '1001', sid: unknown, ver: '1.11' })), 'item-not-found');
  assertTerminate(await sendBody(stack.port, bodyXml({ rid: '1001', sid: unknown })), 'item-not-found');
  // A near miss of a real sid is just as unknown.
  const sid = bystander.session.sid;
  const nearMiss = `${sid.slice(0, -1)}${sid.endsWith('A') ? 'B' : 'A'}`;
  assertTerminate(await sendBody(stack.port, bodyXml({ rid: '1001', sid: nearMiss })), 'item-not-found');
  await assertAlive(bystander, 'bystander');
});

test('§1.8 item-not-found: a legacy session gets HTTP 404 for a rid above the window', async () => {
  const bystander = await openBystander(stack);
  const { session, conn } = await openSession(stack, 'legacywindow', { attrs: { ver: undefined } });
  const reply = await session.send({ rid: session.rid + 5 });
  assertHttpError(reply, 404);
  await conn.waitStreamClose();
  await assertAlive(bystander, 'bystander');
});
